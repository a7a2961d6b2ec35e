//! `model-versions/*`: versions, their stages and tags, as MLflow's client reads and writes them,
//! each write mirrored into the graph (`ingest::mlflow`).

use serde_json::json;
use sqlx::PgConnection;

use super::answers::{alias_target, model_exists, page_of, paged, row, version_json, version_row};
use super::requests::{Found, NewVersion, Transition, VersionKey, VersionTag, VersionUpdate};
use super::{Answer, MlflowError, Writer, now_ms, pass_gate};
use crate::model::registry::Stage;
use crate::server::ingest::mlflow::{VersionMirror, mirror_aliases, mirror_stages, mirror_version};
use crate::server::repo::mlflow as repo;

pub(super) async fn get_version(conn: &mut PgConnection, key: &VersionKey) -> Answer {
    Ok(json!({ "model_version": version_row(conn, &key.name, key.version).await? }))
}

/// Where a version's artifacts are: its source, as MLflow answers for a registry without an
/// artifact store of its own.
pub(super) async fn download_uri(conn: &mut PgConnection, key: &VersionKey) -> Answer {
    let row = row(conn, &key.name, key.version).await?;
    Ok(json!({ "artifact_uri": row.source }))
}

/// Registers the next version of a model, and mirrors it into the graph: a model binary, with
/// the run that produced it when the call names one.
pub(super) async fn create_version(
    conn: &mut PgConnection,
    actor: &str,
    new: &NewVersion,
) -> Answer {
    let name = new.name.as_str();
    model_exists(conn, name).await?;
    let (source, run_id) = registry_source(conn, &new.source, new.run_id.clone()).await?;
    let version = repo::take_version_number(conn, name).await?;
    repo::insert_version(
        conn,
        &repo::NewVersion {
            name,
            version,
            source: &source,
            run_id: &run_id,
            run_link: &new.run_link,
            description: new.description.as_deref().unwrap_or_default(),
            tags: &new.tags,
            now_ms: now_ms(),
        },
    )
    .await?;
    mirror_version(
        conn,
        actor,
        &VersionMirror {
            name,
            version,
            source: &source,
            run_id: &run_id,
            description: new.description.as_deref(),
        },
    )
    .await?;
    Ok(json!({ "model_version": version_row(conn, name, version).await? }))
}

/// A version's source as MLflow keeps it. A `models:/<name>/<version>` or `models:/<name>@<alias>`
/// source (what `copy_model_version` sends) must name a version of this registry, is kept as
/// `models:/<name>/<version>`, and takes that version's run unless the call names one, which
/// must then be the same. Any other source is kept as it is. Returns the source and run id.
async fn registry_source(
    conn: &mut PgConnection,
    source: &str,
    run_id: Option<String>,
) -> Result<(String, String), MlflowError> {
    let Some(rest) = source.strip_prefix("models:") else {
        return Ok((source.to_string(), run_id.unwrap_or_default()));
    };
    let invalid = |why: &str| {
        MlflowError::invalid(format!("Invalid model version source: '{source}'. {why}"))
    };
    let path = rest
        .strip_prefix('/')
        .filter(|p| !p.starts_with('/'))
        .ok_or_else(|| invalid("Registered model sources must use the active model registry."))?;
    let (model, version) = if let Some((model, alias)) = path.split_once('@') {
        (model, alias_target(conn, model, alias).await?)
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
    let copied = row(conn, model, version).await?;
    let run_id = match run_id {
        Some(asked) if asked != copied.run_id => {
            return Err(invalid(
                "The run_id and model_id request parameters must match the referenced model version.",
            ));
        }
        _ => copied.run_id,
    };
    Ok((format!("models:/{model}/{version}"), run_id))
}

pub(super) async fn update_version(conn: &mut PgConnection, update: &VersionUpdate) -> Answer {
    let VersionKey { name, version } = &update.key;
    row(conn, name, *version).await?;
    if let Some(description) = &update.description {
        repo::set_version_description(conn, name, *version, description, now_ms()).await?;
    }
    Ok(json!({ "model_version": version_row(conn, name, *version).await? }))
}

pub(super) async fn delete_version(
    conn: &mut PgConnection,
    actor: &str,
    key: &VersionKey,
) -> Answer {
    row(conn, &key.name, key.version).await?;
    repo::delete_version(conn, &key.name, key.version).await?;
    repo::touch_model(conn, &key.name, now_ms()).await?;
    // Its aliases went with it (as in MLflow).
    mirror_stages(conn, actor, &key.name).await?;
    mirror_aliases(conn, actor, &key.name).await?;
    Ok(json!({}))
}

/// Moves a version to a stage (Staging and Production pass their gates first), archiving the
/// others in that stage when asked.
pub(super) async fn transition(conn: &mut PgConnection, writer: &Writer, t: &Transition) -> Answer {
    let VersionKey { name, version } = &t.key;
    let stage = t.stage;
    if let Some(status) = Stage::parse(&stage.to_ascii_lowercase()) {
        let what = format!("moving {name} version {version} to {stage}");
        row(conn, name, *version).await?;
        pass_gate(conn, writer, name, status, &what).await?;
    }
    if t.archive_existing_versions && !matches!(stage, "Staging" | "Production") {
        return Err(MlflowError::invalid(format!(
            "archive_existing_versions can be true only with Staging or Production, not {stage}"
        )));
    }
    row(conn, name, *version).await?;
    repo::set_stage(
        conn,
        name,
        *version,
        stage,
        t.archive_existing_versions,
        now_ms(),
    )
    .await?;
    mirror_stages(conn, &writer.actor, name).await?;
    Ok(json!({ "model_version": version_row(conn, name, *version).await? }))
}

/// Sets or deletes a version's tag.
pub(super) async fn version_tag(conn: &mut PgConnection, tag: &VersionTag) -> Answer {
    let VersionKey { name, version } = &tag.key;
    row(conn, name, *version).await?;
    repo::set_version_tag(
        conn,
        name,
        *version,
        &tag.tag,
        tag.value.as_deref(),
        now_ms(),
    )
    .await?;
    Ok(json!({}))
}

/// Model versions by the filter (name, `run_id`, tags), by name and newest version first.
pub(super) async fn search_versions(conn: &mut PgConnection, found: &Found) -> Answer {
    let mut rows = repo::search_versions(conn, &found.clauses, &found.page).await?;
    let more = page_of(&mut rows, found.page.limit);
    let versions = rows.iter().map(version_json).collect();
    Ok(paged("model_versions", versions, more, &found.page))
}
