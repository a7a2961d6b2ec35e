//! What MLflow's answers look like (registered models, versions, pages of a search) and the
//! lookups every call starts from, in MLflow's words when nothing is found.

use std::collections::HashMap;

use serde_json::{Value, json};
use sqlx::PgConnection;

use super::MlflowError;
use crate::server::repo::mlflow::{self as repo, VersionRow};

/// 404 in MLflow's words when no registered model has this name.
pub(super) async fn model_exists(conn: &mut PgConnection, name: &str) -> Result<(), MlflowError> {
    if repo::model_exists(conn, name).await? {
        Ok(())
    } else {
        Err(not_found(name))
    }
}

fn not_found(name: &str) -> MlflowError {
    MlflowError::missing(format!("Registered Model with name={name} not found"))
}

pub(super) async fn model_row(conn: &mut PgConnection, name: &str) -> Result<Value, MlflowError> {
    models_json(conn, &[name.to_string()])
        .await?
        .pop()
        .ok_or_else(|| not_found(name))
}

/// Registered models as the API shows them, in the order of `names` (those that exist), in three
/// statements whatever their number: the models, their newest version per stage, their aliases.
pub(super) async fn models_json(
    conn: &mut PgConnection,
    names: &[String],
) -> Result<Vec<Value>, MlflowError> {
    let rows = repo::models(conn, names).await?;
    let latest = repo::newest_per_stage(conn, names).await?;
    let aliases = repo::aliases(conn, names).await?;
    let mut latest_by_model: HashMap<&str, Vec<Value>> = HashMap::new();
    for v in &latest {
        latest_by_model
            .entry(v.name.as_str())
            .or_default()
            .push(version_json(v));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
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
                "latest_versions": latest_by_model.remove(row.name.as_str()).unwrap_or_default(),
                "aliases": aliases,
            })
        })
        .collect())
}

/// The version an alias points at.
pub(super) async fn alias_target(
    conn: &mut PgConnection,
    name: &str,
    alias: &str,
) -> Result<i32, MlflowError> {
    model_exists(conn, name).await?;
    repo::alias_version(conn, name, alias)
        .await?
        .ok_or_else(|| MlflowError::invalid(format!("Registered model alias {alias} not found.")))
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

/// The version's row, or 404 in MLflow's words.
pub(super) async fn row(
    conn: &mut PgConnection,
    name: &str,
    version: i32,
) -> Result<VersionRow, MlflowError> {
    repo::versions(conn, Some(name), None, Some(version), 1, 0)
        .await?
        .pop()
        .ok_or_else(|| {
            MlflowError::missing(format!(
                "Model Version (name={name}, version={version}) not found"
            ))
        })
}

/// The version as the API shows it, or 404 in MLflow's words.
pub(super) async fn version_row(
    conn: &mut PgConnection,
    name: &str,
    version: i32,
) -> Result<Value, MlflowError> {
    Ok(version_json(&row(conn, name, version).await?))
}

/// Cuts `rows` (read with one row more than `limit`) to the page; true when there is more.
pub(super) fn page_of<T>(rows: &mut Vec<T>, limit: i64) -> bool {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    more
}

/// A page of a search as MLflow answers it: the items, and the token of the next page if any.
pub(super) fn paged(key: &str, items: Vec<Value>, more: bool, page: &repo::Page) -> Value {
    let mut answer = json!({ key: items });
    if more {
        answer["next_page_token"] = Value::String((page.offset + page.limit).to_string());
    }
    answer
}

/// Tags kept as an object, as MLflow answers them: `[{key, value}]`.
pub(super) fn tags_json(tags: &Value) -> Value {
    Value::Array(
        tags.as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| json!({"key": k, "value": v.as_str().unwrap_or_default()}))
                    .collect()
            })
            .unwrap_or_default(),
    )
}
