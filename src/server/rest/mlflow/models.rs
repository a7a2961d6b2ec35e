//! `registered-models/*`: registered models, their tags, aliases and latest versions, as MLflow's
//! client reads and writes them, each write mirrored into the graph (`ingest::mlflow`).

use serde_json::json;
use sqlx::PgConnection;

use super::answers::{
    alias_target, model_exists, model_row, models_json, page_of, paged, version_row,
};
use super::requests::{
    AliasName, AliasPoint, Found, Latest, ModelName, ModelTag, ModelUpdate, NewModel, Rename,
};
use super::{Answer, MlflowError, SOURCE, Writer, now_ms, pass_gate};
use crate::model::record::Ref;
use crate::model::registry::Stage;
use crate::server::ingest::mlflow::{alias_status, mirror_aliases, mirror_model, mirror_stages};
use crate::server::repo::graph::set_actor;
use crate::server::repo::mlflow as repo;

pub(super) async fn get_model(conn: &mut PgConnection, asked: &ModelName) -> Answer {
    Ok(json!({ "registered_model": model_row(conn, &asked.name).await? }))
}

pub(super) async fn create_model(conn: &mut PgConnection, actor: &str, new: &NewModel) -> Answer {
    if !repo::insert_model(conn, &new.name, &new.description, &new.tags, now_ms()).await? {
        return Err(MlflowError::taken(&new.name));
    }
    mirror_model(conn, actor, &new.name).await?;
    Ok(json!({ "registered_model": model_row(conn, &new.name).await? }))
}

pub(super) async fn update_model(
    conn: &mut PgConnection,
    actor: &str,
    update: &ModelUpdate,
) -> Answer {
    model_exists(conn, &update.name).await?;
    if let Some(description) = &update.description {
        repo::set_model_description(conn, &update.name, description, now_ms()).await?;
        mirror_model(conn, actor, &update.name).await?;
    }
    Ok(json!({ "registered_model": model_row(conn, &update.name).await? }))
}

/// Renames a registered model, as MLflow does: its versions, aliases and stages follow (the
/// registry's keys cascade), and so do its assets in the graph, which keep their ids and history
/// under the new name (`<new>`, `<new>/<version>`, `<new>@<stage>`, `<new>@alias:<alias>`).
pub(super) async fn rename_model(conn: &mut PgConnection, actor: &str, rename: &Rename) -> Answer {
    let Rename { name, new_name } = rename;
    model_exists(conn, name).await?;
    if new_name != name {
        if repo::model_exists(conn, new_name).await? {
            return Err(MlflowError::taken(new_name));
        }
        // A registered model deleted under the new name left its assets in the graph (their
        // history is the audit trail): they keep that name.
        let kept = Ref {
            source: SOURCE.into(),
            id: new_name.clone(),
        };
        if repo::graph_has(conn, &kept).await? {
            return Err(MlflowError::invalid(format!(
                "the graph keeps the model source {SOURCE}/{new_name} of a registered model deleted under that name; choose another name"
            )));
        }
        set_actor(conn, actor).await?;
        repo::rename_model(conn, SOURCE, name, new_name, now_ms()).await?;
    }
    Ok(json!({ "registered_model": model_row(conn, new_name).await? }))
}

/// Removes the model from the registry; the graph keeps its model source and binaries (their
/// history is the audit trail).
pub(super) async fn delete_model(
    conn: &mut PgConnection,
    actor: &str,
    asked: &ModelName,
) -> Answer {
    model_exists(conn, &asked.name).await?;
    repo::delete_model(conn, &asked.name).await?;
    // Nothing is in a stage or behind an alias any more: its deployments are retired.
    mirror_stages(conn, actor, &asked.name).await?;
    mirror_aliases(conn, actor, &asked.name).await?;
    Ok(json!({}))
}

/// Sets or deletes a registered model's tag.
pub(super) async fn model_tag(conn: &mut PgConnection, actor: &str, tag: &ModelTag) -> Answer {
    model_exists(conn, &tag.name).await?;
    repo::set_model_tag(conn, &tag.name, &tag.key, tag.value.as_deref(), now_ms()).await?;
    mirror_model(conn, actor, &tag.name).await?;
    Ok(json!({}))
}

/// The newest version in each stage asked for, the stages in the order MLflow answers them: by
/// the oldest version in each.
pub(super) async fn latest(conn: &mut PgConnection, asked: &Latest) -> Answer {
    model_exists(conn, &asked.name).await?;
    let stages = asked
        .stages
        .as_ref()
        .map(|s| s.iter().map(ToString::to_string).collect::<Vec<_>>());
    let mut versions = Vec::new();
    for version in repo::newest_in_stages(conn, &asked.name, stages.as_deref()).await? {
        versions.push(version_row(conn, &asked.name, version).await?);
    }
    Ok(json!({ "model_versions": versions }))
}

pub(super) async fn get_by_alias(conn: &mut PgConnection, asked: &AliasName) -> Answer {
    let version = alias_target(conn, &asked.name, &asked.alias).await?;
    Ok(json!({ "model_version": version_row(conn, &asked.name, version).await? }))
}

/// Points an alias at a version; an alias whose deployment is in a gated status passes the gate.
pub(super) async fn set_alias(
    conn: &mut PgConnection,
    writer: &Writer,
    point: &AliasPoint,
) -> Answer {
    let AliasPoint {
        name,
        alias,
        version,
    } = point;
    version_row(conn, name, *version).await?;
    if let Some(status) = Stage::parse(alias_status(alias)) {
        let what = format!("pointing {name}@{alias} ({status}) at version {version}");
        pass_gate(conn, writer, name, status, &what).await?;
    }
    repo::set_alias(conn, name, alias, *version).await?;
    mirror_aliases(conn, &writer.actor, name).await?;
    Ok(json!({}))
}

pub(super) async fn delete_alias(
    conn: &mut PgConnection,
    actor: &str,
    asked: &AliasName,
) -> Answer {
    model_exists(conn, &asked.name).await?;
    repo::delete_alias(conn, &asked.name, &asked.alias).await?;
    mirror_aliases(conn, actor, &asked.name).await?;
    Ok(json!({}))
}

/// Registered models by the filter, by name; the matching is done by Postgres, a page at a time.
pub(super) async fn search_models(conn: &mut PgConnection, found: &Found) -> Answer {
    let mut names = repo::search_model_names(conn, &found.clauses, &found.page).await?;
    let more = page_of(&mut names, found.page.limit);
    let models = models_json(conn, &names).await?;
    Ok(paged("registered_models", models, more, &found.page))
}
