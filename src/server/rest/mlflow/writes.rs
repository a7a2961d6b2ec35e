//! The MLflow calls that write: registered models, versions, stages, tags and aliases, each
//! mirrored into the graph.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sqlx::PgConnection;

use super::args::{canonical_stage, now_ms, optional, tags_in, text, version_of};
use super::reads::{model_exists, model_row, version_row};
use super::{Answer, MlflowError, SOURCE};
use crate::error::AppError;
use crate::model::record::{AssetKind, EdgeRecord, Record, Ref};
use crate::model::registry::Stage;
use crate::server::ingest::mlflow::{
    alias_status, asset, mirror, mirror_aliases, mirror_model, mirror_stages,
};
use crate::server::repo::exemptions::model_source_id;
use crate::server::repo::registry::{by_id, record};
use crate::server::service::governance::Gating;

pub(super) async fn create_model(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let tags = tags_in(args)?;
    let now = now_ms();
    let inserted = sqlx::query!(
        r#"
        INSERT INTO mlflow_models (name, description, tags, created_ms, updated_ms)
        VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING
        "#,
        name,
        optional(args, "description")?.unwrap_or_default(),
        tags,
        now,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(MlflowError::taken(&name));
    }
    mirror_model(conn, actor, &name).await?;
    Ok(json!({ "registered_model": model_row(conn, &name).await? }))
}

pub(super) async fn update_model(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    model_exists(conn, &name).await?;
    if let Some(description) = optional(args, "description")? {
        sqlx::query!(
            "UPDATE mlflow_models SET description = $2, updated_ms = $3 WHERE name = $1",
            name,
            description,
            now_ms()
        )
        .execute(&mut *conn)
        .await?;
        mirror_model(conn, actor, &name).await?;
    }
    Ok(json!({ "registered_model": model_row(conn, &name).await? }))
}

/// Renames a registered model, as MLflow does: its versions, aliases and stages follow (the
/// registry's keys cascade), and so do its assets in the graph, which keep their ids and history
/// under the new name (`<new>`, `<new>/<version>`, `<new>@<stage>`, `<new>@alias:<alias>`).
pub(super) async fn rename_model(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let new_name = text(args, "new_name")?;
    model_exists(conn, &name).await?;
    if new_name != name {
        let taken = sqlx::query_scalar!("SELECT 1 FROM mlflow_models WHERE name = $1", new_name)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_some() {
            return Err(MlflowError::taken(&new_name));
        }
        // A registered model deleted under the new name left its assets in the graph (their
        // history is the audit trail): they keep that name.
        let kept = sqlx::query_scalar!(
            "SELECT 1 FROM assets WHERE source = $1 AND external_id = $2",
            SOURCE,
            new_name
        )
        .fetch_optional(&mut *conn)
        .await?;
        if kept.is_some() {
            return Err(MlflowError::invalid(format!(
                "the graph keeps the model source {SOURCE}/{new_name} of a registered model deleted under that name; choose another name"
            )));
        }
        crate::server::repo::graph::set_actor(conn, actor).await?;
        sqlx::query!(
            "UPDATE mlflow_models SET name = $2, updated_ms = $3 WHERE name = $1",
            name,
            new_name,
            now_ms()
        )
        .execute(&mut *conn)
        .await?;
        // The model source, its binaries (`<name>/<version>`) and its deployments (`<name>@…`),
        // matched exactly so that another model whose name starts the same is left alone.
        sqlx::query!(
            r#"
            UPDATE assets
            SET external_id = $2 || substr(external_id, length($1) + 1),
                name = CASE WHEN starts_with(name, $1) THEN $2 || substr(name, length($1) + 1) ELSE name END
            WHERE source = $3
              AND (external_id = $1
                   OR (starts_with(external_id, $1 || '/') AND substr(external_id, length($1) + 2) ~ '^[0-9]+$')
                   OR (starts_with(external_id, $1 || '@')
                       AND substr(external_id, length($1) + 2) ~ '^(Staging|Production|alias:.+)$'))
            "#,
            name,
            new_name,
            SOURCE,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({ "registered_model": model_row(conn, &new_name).await? }))
}

/// Removes the model from the registry; the graph keeps its model source and binaries (their
/// history is the audit trail).
pub(super) async fn delete_model(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    model_exists(conn, &name).await?;
    sqlx::query!("DELETE FROM mlflow_models WHERE name = $1", name)
        .execute(&mut *conn)
        .await?;
    // Nothing is in a stage or behind an alias any more: its deployments are retired.
    mirror_stages(conn, actor, &name).await?;
    mirror_aliases(conn, actor, &name).await?;
    Ok(json!({}))
}

pub(super) async fn set_model_tag(
    conn: &mut PgConnection,
    actor: &str,
    args: &Value,
    set: bool,
) -> Answer {
    let name = text(args, "name")?;
    let key = text(args, "key")?;
    model_exists(conn, &name).await?;
    if set {
        let value = optional(args, "value")?.unwrap_or_default();
        sqlx::query!(
            "UPDATE mlflow_models SET tags = tags || jsonb_build_object($2::text, $3::text), updated_ms = $4 WHERE name = $1",
            name, key, value, now_ms()
        )
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE mlflow_models SET tags = tags - $2::text, updated_ms = $3 WHERE name = $1",
            name,
            key,
            now_ms()
        )
        .execute(&mut *conn)
        .await?;
    }
    mirror_model(conn, actor, &name).await?;
    Ok(json!({}))
}

pub(super) async fn create_version(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let source = optional(args, "source")?.unwrap_or_default();
    let run_id = optional(args, "run_id")?;
    model_exists(conn, &name).await?;
    let (source, run_id) = registry_source(conn, source, run_id).await?;
    // The model's counter gives the number (and holds the row: one version at a time).
    let next = sqlx::query_scalar!(
        "UPDATE mlflow_models SET next_version = next_version + 1 WHERE name = $1 RETURNING next_version - 1 AS \"n!\"",
        name
    )
    .fetch_one(&mut *conn)
    .await?;
    let now = now_ms();
    let version = sqlx::query_scalar!(
        r#"
        INSERT INTO mlflow_versions (name, version, source, run_id, run_link, description, tags, created_ms, updated_ms)
        VALUES ($1, $8, $2, $3, $4, $5, $6, $7, $7)
        RETURNING version
        "#,
        name,
        source,
        run_id,
        optional(args, "run_link")?.unwrap_or_default(),
        optional(args, "description")?.unwrap_or_default(),
        tags_in(args)?,
        now,
        next,
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE mlflow_models SET updated_ms = $2 WHERE name = $1",
        name,
        now
    )
    .execute(&mut *conn)
    .await?;
    let binary = format!("{name}/{version}");
    let mut records = vec![Record::Asset({
        let mut b = asset(
            binary.clone(),
            AssetKind::ModelBinary,
            format!("{name} v{version}"),
        );
        b.description = optional(args, "description")?;
        b.tags = Some(BTreeMap::from([(
            "mlflow.source".to_string(),
            source.clone(),
        )]));
        b
    })];
    if !run_id.is_empty() {
        // The run that produced it, executed by the model source (one graph run per MLflow run
        // and registered model: see `graph_run`).
        let (run_key, sibling) = graph_run(conn, &run_id, &name).await?;
        let mut run_record = asset(
            run_key.clone(),
            AssetKind::WorkflowRun,
            format!("{name} run {}", run_id.chars().take(8).collect::<String>()),
        );
        run_record.tags = Some(BTreeMap::from([(
            "mlflow.run_id".to_string(),
            run_id.clone(),
        )]));
        let run = Ref {
            source: SOURCE.into(),
            id: run_key,
        };
        if let Some(sibling) = sibling {
            // What the graph knows of the run it shares: its state, times and training data.
            run_record.status = sibling.status;
            run_record.started_at = sibling.started_at;
            run_record.ended_at = sibling.ended_at;
            for dataset in sibling.datasets {
                records.push(Record::Edge(EdgeRecord {
                    from: dataset,
                    to: run.clone(),
                }));
            }
        }
        records.insert(1, Record::Asset(run_record));
        records.push(Record::Edge(EdgeRecord {
            from: Ref {
                source: SOURCE.into(),
                id: name.clone(),
            },
            to: run.clone(),
        }));
        records.push(Record::Edge(EdgeRecord {
            from: run,
            to: Ref {
                source: SOURCE.into(),
                id: binary,
            },
        }));
    }
    mirror(conn, actor, records).await?;
    Ok(json!({ "model_version": version_row(conn, &name, version).await? }))
}

/// A version's source as MLflow keeps it. A `models:/<name>/<version>` or `models:/<name>@<alias>`
/// source (what `copy_model_version` sends) must name a version of this registry, is kept as
/// `models:/<name>/<version>`, and takes that version's run unless the call names one, which
/// must then be the same. Any other source is kept as it is. Returns the source and run id.
async fn registry_source(
    conn: &mut PgConnection,
    source: String,
    run_id: Option<String>,
) -> Result<(String, String), MlflowError> {
    let Some(rest) = source.strip_prefix("models:") else {
        return Ok((source, run_id.unwrap_or_default()));
    };
    let invalid = |why: &str| {
        MlflowError::invalid(format!("Invalid model version source: '{source}'. {why}"))
    };
    let path = rest
        .strip_prefix('/')
        .filter(|p| !p.starts_with('/'))
        .ok_or_else(|| invalid("Registered model sources must use the active model registry."))?;
    let (model, version) = if let Some((model, alias)) = path.split_once('@') {
        model_exists(conn, model).await?;
        let version = sqlx::query_scalar!(
            "SELECT version FROM mlflow_aliases WHERE name = $1 AND alias = $2",
            model,
            alias
        )
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| {
            MlflowError::invalid(format!("Registered model alias {alias} not found."))
        })?;
        (model, version)
    } else {
        let (model, version) = path.rsplit_once('/').ok_or_else(|| {
            invalid("It must be models:/<name>/<version> or models:/<name>@<alias>.")
        })?;
        model_exists(conn, model).await?;
        let version = version.parse::<i32>().map_err(|_| {
            MlflowError::invalid(format!(
                "Parameter 'version' must be an integer, got '{version}'."
            ))
        })?;
        (model, version)
    };
    let copied = version_row(conn, model, version).await?;
    let copied_run = copied["run_id"].as_str().unwrap_or_default().to_string();
    let run_id = match run_id {
        Some(asked) if asked != copied_run => {
            return Err(invalid(
                "The run_id and model_id request parameters must match the referenced model version.",
            ));
        }
        _ => copied_run,
    };
    Ok((format!("models:/{model}/{version}"), run_id))
}

/// What the graph knows of an MLflow run already mirrored for another registered model.
struct SharedRun {
    status: Option<String>,
    started_at: Option<String>,
    ended_at: Option<String>,
    datasets: Vec<Ref>,
}

/// The graph run that stands for MLflow run `run_id` producing a version of `name`.
///
/// In MLflow one run often logs several models registered under different names; in the graph a
/// workflow run is executed by exactly one model source (DESIGN.md section 1), which keeps "the
/// run that produced this binary" and "this model's runs" well defined for every metric. So the
/// first registered model that names the run gets `run:<run_id>`, and each other one a run of its
/// own, `run:<run_id>@<name>`, with the same state, times and training data and the tag
/// `mlflow.run_id` that links the two (returned with what it copies).
async fn graph_run(
    conn: &mut PgConnection,
    run_id: &str,
    name: &str,
) -> Result<(String, Option<SharedRun>), MlflowError> {
    let first = format!("run:{run_id}");
    let row = sqlx::query!(
        r#"
        SELECT r.id, m.external_id AS "model?", r.status,
               to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at,
               to_char(r.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ended_at
        FROM assets r
        LEFT JOIN edges e ON e.to_id = r.id AND e.from_kind = 'model_source'
        LEFT JOIN assets m ON m.id = e.from_id
        WHERE r.source = $1 AND r.external_id = $2
        "#,
        SOURCE,
        first,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row.filter(|r| r.model.as_deref().is_some_and(|m| m != name)) else {
        return Ok((first, None));
    };
    let datasets = sqlx::query!(
        r#"
        SELECT d.source, d.external_id
        FROM edges e JOIN assets d ON d.id = e.from_id
        WHERE e.to_id = $1 AND e.from_kind = 'dataset'
        "#,
        row.id,
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|d| Ref {
        source: d.source,
        id: d.external_id,
    })
    .collect();
    Ok((
        format!("{first}@{name}"),
        Some(SharedRun {
            status: row.status,
            started_at: row.started_at,
            ended_at: row.ended_at,
            datasets,
        }),
    ))
}

pub(super) async fn update_version(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    version_row(conn, &name, version).await?;
    if let Some(description) = optional(args, "description")? {
        sqlx::query!(
            "UPDATE mlflow_versions SET description = $3, updated_ms = $4 WHERE name = $1 AND version = $2",
            name, version, description, now_ms()
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({ "model_version": version_row(conn, &name, version).await? }))
}

pub(super) async fn delete_version(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    version_row(conn, &name, version).await?;
    sqlx::query!(
        "DELETE FROM mlflow_versions WHERE name = $1 AND version = $2",
        name,
        version
    )
    .execute(&mut *conn)
    .await?;
    touch_model(conn, &name, now_ms()).await?;
    // Its aliases went with it (as in MLflow).
    mirror_stages(conn, actor, &name).await?;
    mirror_aliases(conn, actor, &name).await?;
    Ok(json!({}))
}

/// Holds a move of registered model `name` into `status` to the catalog's promotion gate (the
/// model source it mirrors to is judged); an admin's override is recorded in its history.
async fn pass_gate(
    conn: &mut PgConnection,
    gating: Option<&Gating>,
    name: &str,
    status: Stage,
    what: &str,
) -> Result<(), MlflowError> {
    let Some(gating) = gating else {
        return Ok(());
    };
    if !gating.catalog.gates.iter().any(|g| g.status == status) {
        return Ok(());
    }
    let key = Ref {
        source: SOURCE.into(),
        id: name.to_string(),
    };
    let model = match model_source_id(conn, &key).await {
        Ok(id) => id,
        // Not mirrored (yet): nothing to judge it by.
        Err(AppError::NotFound(_)) => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    let gate = gating
        .enforce(conn, model, status, what)
        .await
        .map_err(|error| match error {
            AppError::Conflict(why) => MlflowError::gated(why),
            other => other.into(),
        })?;
    if let Some(reason) = gate
        .as_ref()
        .and_then(|g| g.get("overridden"))
        .and_then(Value::as_str)
    {
        let model = by_id(conn, model).await?;
        record(
            conn,
            "gate_overridden",
            Some(&model),
            &model,
            Value::Null,
            json!({ "summary": format!("{status} gate overridden for {what}: {reason}"), "gate": gate }),
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn transition(
    conn: &mut PgConnection,
    actor: &str,
    gating: Option<&Gating>,
    args: &Value,
) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    let stage = canonical_stage(&text(args, "stage")?)?;
    if let Some(status) = Stage::parse(&stage.to_ascii_lowercase()) {
        let what = format!("moving {name} version {version} to {stage}");
        version_row(conn, &name, version).await?;
        pass_gate(conn, gating, &name, status, &what).await?;
    }
    let archive = args
        .get("archive_existing_versions")
        .is_some_and(|v| v.as_bool().unwrap_or(v.as_str() == Some("true")));
    if archive && !matches!(stage, "Staging" | "Production") {
        return Err(MlflowError::invalid(format!(
            "archive_existing_versions can be true only with Staging or Production, not {stage}"
        )));
    }
    version_row(conn, &name, version).await?;
    let now = now_ms();
    if archive {
        sqlx::query!(
            "UPDATE mlflow_versions SET stage = 'Archived', updated_ms = $4 WHERE name = $1 AND stage = $2 AND version <> $3",
            name, stage, version, now
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "UPDATE mlflow_versions SET stage = $3, updated_ms = $4 WHERE name = $1 AND version = $2",
        name,
        version,
        stage,
        now
    )
    .execute(&mut *conn)
    .await?;
    touch_model(conn, &name, now).await?;
    mirror_stages(conn, actor, &name).await?;
    Ok(json!({ "model_version": version_row(conn, &name, version).await? }))
}

/// Marks the registered model as changed at `now` (as MLflow does when one of its versions moves
/// stage or is deleted).
pub(super) async fn touch_model(
    conn: &mut PgConnection,
    name: &str,
    now: i64,
) -> Result<(), MlflowError> {
    sqlx::query!(
        "UPDATE mlflow_models SET updated_ms = $2 WHERE name = $1",
        name,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn set_version_tag(conn: &mut PgConnection, args: &Value, set: bool) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    let key = text(args, "key")?;
    version_row(conn, &name, version).await?;
    if set {
        sqlx::query!(
            "UPDATE mlflow_versions SET tags = tags || jsonb_build_object($3::text, $4::text), updated_ms = $5 WHERE name = $1 AND version = $2",
            name, version, key, optional(args, "value")?.unwrap_or_default(), now_ms()
        )
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE mlflow_versions SET tags = tags - $3::text, updated_ms = $4 WHERE name = $1 AND version = $2",
            name, version, key, now_ms()
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({}))
}

pub(super) async fn set_alias(
    conn: &mut PgConnection,
    actor: &str,
    gating: Option<&Gating>,
    args: &Value,
) -> Answer {
    let name = text(args, "name")?;
    let alias = text(args, "alias")?;
    let version = version_of(args)?;
    if alias.eq_ignore_ascii_case("latest")
        || (alias.starts_with('v') && alias[1..].parse::<u64>().is_ok())
    {
        return Err(MlflowError::invalid(format!("alias {alias:?} is reserved")));
    }
    version_row(conn, &name, version).await?;
    if let Some(status) = Stage::parse(alias_status(&alias)) {
        let what = format!("pointing {name}@{alias} ({status}) at version {version}");
        pass_gate(conn, gating, &name, status, &what).await?;
    }
    sqlx::query!(
        r#"
        INSERT INTO mlflow_aliases (name, alias, version) VALUES ($1, $2, $3)
        ON CONFLICT (name, alias) DO UPDATE SET version = EXCLUDED.version
        "#,
        name,
        alias,
        version
    )
    .execute(&mut *conn)
    .await?;
    mirror_aliases(conn, actor, &name).await?;
    Ok(json!({}))
}

pub(super) async fn delete_alias(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let alias = text(args, "alias")?;
    model_exists(conn, &name).await?;
    sqlx::query!(
        "DELETE FROM mlflow_aliases WHERE name = $1 AND alias = $2",
        name,
        alias
    )
    .execute(&mut *conn)
    .await?;
    mirror_aliases(conn, actor, &name).await?;
    Ok(json!({}))
}
