//! The MLflow calls that read: registered models and versions as MLflow's client reads them.

use serde_json::{Value, json};
use sqlx::PgConnection;

use super::args::{canonical_stage, tags_json, text, version_of};
use super::{Answer, MlflowError};

/// 404 in MLflow's words when no registered model has this name.
pub(super) async fn model_exists(conn: &mut PgConnection, name: &str) -> Result<(), MlflowError> {
    let found = sqlx::query_scalar!("SELECT 1 FROM mlflow_models WHERE name = $1", name)
        .fetch_optional(&mut *conn)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| MlflowError::missing(format!("Registered Model with name={name} not found")))
}

pub(super) async fn model_row(conn: &mut PgConnection, name: &str) -> Result<Value, MlflowError> {
    models_json(conn, &[name.to_string()])
        .await?
        .pop()
        .ok_or_else(|| MlflowError::missing(format!("Registered Model with name={name} not found")))
}

/// Registered models as the API shows them, in the order of `names` (those that exist), in three
/// statements whatever their number: the models, their newest version per stage, their aliases.
pub(super) async fn models_json(
    conn: &mut PgConnection,
    names: &[String],
) -> Result<Vec<Value>, MlflowError> {
    let rows = sqlx::query!(
        r#"
        SELECT m.name, m.description, m.tags, m.created_ms, m.updated_ms
        FROM unnest($1::text[]) WITH ORDINALITY AS w(name, i)
        JOIN mlflow_models m ON m.name = w.name
        ORDER BY w.i
        "#,
        names,
    )
    .fetch_all(&mut *conn)
    .await?;
    // Per model and stage, the newest version: one index probe each (mlflow_versions_stage).
    // MLflow lists these without their aliases (the model lists its aliases itself).
    let latest = sqlx::query_as!(
        VersionRow,
        r#"
        SELECT l.name, l.version, l.source, l.run_id, l.run_link, l.description, l.stage, l.tags,
               l.created_ms, l.updated_ms, '{}'::text[] AS "aliases!"
        FROM unnest($1::text[]) AS n(name)
        CROSS JOIN (VALUES ('Archived'), ('None'), ('Production'), ('Staging')) AS s(stage)
        CROSS JOIN LATERAL (
            SELECT v.* FROM mlflow_versions v
            WHERE v.name = n.name AND v.stage = s.stage
            ORDER BY v.version DESC LIMIT 1
        ) l
        "#,
        names,
    )
    .fetch_all(&mut *conn)
    .await?;
    let aliases = sqlx::query!(
        "SELECT name, alias, version FROM mlflow_aliases WHERE name = ANY($1) ORDER BY name, alias",
        names,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut latest_by_model: std::collections::HashMap<&str, Vec<_>> =
        std::collections::HashMap::new();
    for v in &latest {
        latest_by_model.entry(v.name.as_str()).or_default().push(v);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let latest: Vec<Value> = latest_by_model
                .get(row.name.as_str())
                .into_iter()
                .flatten()
                .map(|v| version_json(v))
                .collect();
            let aliases: Vec<Value> = aliases
                .iter()
                .filter(|a| a.name == row.name)
                .map(|a| json!({"alias": a.alias, "version": a.version.to_string()}))
                .collect();
            json!({
                "name": row.name,
                "creation_timestamp": row.created_ms,
                "last_updated_timestamp": row.updated_ms,
                "description": row.description,
                "tags": tags_json(&row.tags),
                "latest_versions": latest,
                "aliases": aliases,
            })
        })
        .collect())
}

/// A version's row with its aliases.
#[derive(sqlx::FromRow)]
pub(super) struct VersionRow {
    name: String,
    version: i32,
    source: String,
    run_id: String,
    run_link: String,
    description: String,
    stage: String,
    tags: Value,
    created_ms: i64,
    updated_ms: i64,
    aliases: Vec<String>,
}

/// A model version as MLflow's client reads it: `version` a string, times in milliseconds, and
/// always `READY` (modelgov registers at once; anything else makes the client wait).
pub(super) fn version_json(v: &VersionRow) -> Value {
    json!({
        "name": v.name, "version": v.version.to_string(),
        "creation_timestamp": v.created_ms, "last_updated_timestamp": v.updated_ms,
        "user_id": "", "current_stage": v.stage, "description": v.description,
        "source": v.source, "run_id": v.run_id, "run_link": v.run_link,
        "status": "READY", "tags": tags_json(&v.tags), "aliases": v.aliases,
    })
}

/// Versions as the API shows them, for `name` (and `version`), newest first.
pub(super) async fn versions(
    conn: &mut PgConnection,
    filter_name: Option<&str>,
    like: Option<&str>,
    version: Option<i32>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Value>, MlflowError> {
    let rows = sqlx::query_as!(
        VersionRow,
        r#"
        SELECT v.name, v.version, v.source, v.run_id, v.run_link, v.description, v.stage, v.tags,
               v.created_ms, v.updated_ms,
               coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM mlflow_aliases a
                         WHERE a.name = v.name AND a.version = v.version), '{}') AS "aliases!"
        FROM mlflow_versions v
        WHERE ($1::text IS NULL OR v.name = $1) AND ($2::text IS NULL OR v.name LIKE $2)
          AND ($3::int IS NULL OR v.version = $3)
        ORDER BY v.name, v.version DESC
        LIMIT $4 OFFSET $5
        "#,
        filter_name,
        like,
        version,
        limit,
        offset,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(version_json).collect())
}

pub(super) async fn version_row(
    conn: &mut PgConnection,
    name: &str,
    version: i32,
) -> Result<Value, MlflowError> {
    versions(conn, Some(name), None, Some(version), 1, 0)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            MlflowError::missing(format!(
                "Model Version (name={name}, version={version}) not found"
            ))
        })
}

/// The newest version in each stage (of `stages`, or all that have one), the stages in the
/// order MLflow answers them: by the oldest version in each.
pub(super) async fn latest_per_stage(
    conn: &mut PgConnection,
    name: &str,
    stages: Option<Vec<&'static str>>,
) -> Result<Vec<Value>, MlflowError> {
    let rows = sqlx::query!(
        r#"
        SELECT max(version) AS "version!" FROM mlflow_versions
        WHERE name = $1 AND ($2::text[] IS NULL OR stage = ANY($2))
        GROUP BY stage
        ORDER BY min(version)
        "#,
        name,
        stages
            .as_ref()
            .map(|s| s.iter().map(ToString::to_string).collect::<Vec<_>>())
            as Option<Vec<String>>,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        out.push(version_row(conn, name, row.version).await?);
    }
    Ok(out)
}

pub(super) async fn get_model(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    Ok(json!({ "registered_model": model_row(conn, &name).await? }))
}

pub(super) async fn get_version(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    Ok(json!({ "model_version": version_row(conn, &name, version_of(args)?).await? }))
}

/// Where a version's artifacts are: its source, as MLflow answers for a registry without an
/// artifact store of its own.
pub(super) async fn download_uri(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    let row = version_row(conn, &name, version).await?;
    Ok(json!({ "artifact_uri": row["source"] }))
}

pub(super) async fn latest(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    model_exists(conn, &name).await?;
    let stages = match args.get("stages") {
        None => None,
        Some(Value::String(s)) => Some(vec![canonical_stage(s)?]),
        Some(Value::Array(list)) => Some(
            list.iter()
                .map(|s| canonical_stage(s.as_str().unwrap_or_default()))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(MlflowError::invalid("stages must be a list of stage names")),
    };
    let stages = stages.filter(|s| !s.is_empty());
    Ok(json!({ "model_versions": latest_per_stage(conn, &name, stages).await? }))
}

pub(super) async fn get_by_alias(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let alias = text(args, "alias")?;
    model_exists(conn, &name).await?;
    let version = sqlx::query_scalar!(
        "SELECT version FROM mlflow_aliases WHERE name = $1 AND alias = $2",
        name,
        alias
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| MlflowError::invalid(format!("Registered model alias {alias} not found.")))?;
    Ok(json!({ "model_version": version_row(conn, &name, version).await? }))
}
