//! What an MLflow write means in the graph, written in the call's transaction: registered models
//! are model sources, versions model binaries (with their run), the Staging and Production
//! stages and every alias deployments. The MLflow API (`rest::mlflow`) calls these after its own
//! writes; like OpenLineage's, its records go through `apply`, the one way into the graph. What
//! they read of the registry's tables is read through `repo::mlflow`.

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::PgConnection;

use super::apply;
use super::parse::Item;
use crate::error::AppError;
use crate::model::record::{AssetKind, AssetRecord, EdgeRecord, Outcome, Record, Ref};
use crate::server::repo::mlflow as repo;

/// The source every asset written for the MLflow API is under.
pub const SOURCE: &str = "mlflow";

/// Why mirroring a write failed.
#[derive(Debug)]
pub enum MirrorError {
    /// The graph refused a record: the caller's mistake, in words.
    Refused(String),
    /// The write itself failed.
    Failed(AppError),
}

impl From<AppError> for MirrorError {
    fn from(error: AppError) -> Self {
        Self::Failed(error)
    }
}

impl From<sqlx::Error> for MirrorError {
    fn from(error: sqlx::Error) -> Self {
        Self::Failed(error.into())
    }
}

/// Writes `records` into the graph as `actor`; a record the graph refuses fails the call.
pub async fn mirror(
    conn: &mut PgConnection,
    actor: &str,
    records: Vec<Record>,
) -> Result<(), MirrorError> {
    let items = Item::numbered(records);
    let results = apply::apply_in(&mut *conn, actor, &items).await?;
    if let Some(refused) = results.iter().find(|r| r.status == Outcome::Rejected) {
        return Err(MirrorError::Refused(format!(
            "the graph refused it: {}",
            refused.error.clone().unwrap_or_default()
        )));
    }
    Ok(())
}

pub fn asset(id: String, kind: AssetKind, name: String) -> AssetRecord {
    AssetRecord {
        source: SOURCE.into(),
        id,
        kind: Some(kind),
        name,
        ..AssetRecord::default()
    }
}

pub fn tag_map(tags: &Value) -> BTreeMap<String, String> {
    tags.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The key of an asset mirrored from MLflow.
fn key(id: &str) -> Ref {
    Ref {
        source: SOURCE.into(),
        id: id.to_string(),
    }
}

/// A registered version, as its model binary and run are mirrored.
#[derive(Debug, Clone)]
pub struct VersionMirror<'a> {
    pub name: &'a str,
    pub version: i32,
    pub source: &'a str,
    /// Empty when the version names no run.
    pub run_id: &'a str,
    pub description: Option<&'a str>,
}

/// A new version as a model binary (`<name>/<version>`) and, when it names its run, the
/// workflow run that produced it, executed by the model source.
pub async fn mirror_version(
    conn: &mut PgConnection,
    actor: &str,
    version: &VersionMirror<'_>,
) -> Result<(), MirrorError> {
    let VersionMirror {
        name,
        version,
        source,
        run_id,
        description,
    } = *version;
    let binary = key(&format!("{name}/{version}"));
    let mut b = asset(
        binary.id.clone(),
        AssetKind::ModelBinary,
        format!("{name} v{version}"),
    );
    b.description = description.map(str::to_string);
    b.tags = Some(BTreeMap::from([(
        "mlflow.source".to_string(),
        source.to_string(),
    )]));
    let mut records = vec![Record::Asset(b)];
    if !run_id.is_empty() {
        let (run, shared) = graph_run(conn, run_id, name).await?;
        let mut run_record = asset(
            run.id.clone(),
            AssetKind::WorkflowRun,
            format!("{name} run {}", run_id.chars().take(8).collect::<String>()),
        );
        run_record.tags = Some(BTreeMap::from([(
            "mlflow.run_id".to_string(),
            run_id.to_string(),
        )]));
        let mut datasets = Vec::new();
        if let Some(shared) = shared {
            // What the graph knows of the run it shares: its state, times and training data.
            run_record.status = shared.status;
            run_record.started_at = shared.started_at;
            run_record.ended_at = shared.ended_at;
            datasets = repo::run_datasets(conn, shared.id).await?;
        }
        records.push(Record::Asset(run_record));
        records.extend(datasets.into_iter().map(|dataset| {
            Record::Edge(EdgeRecord {
                from: dataset,
                to: run.clone(),
            })
        }));
        records.push(Record::Edge(EdgeRecord {
            from: key(name),
            to: run.clone(),
        }));
        records.push(Record::Edge(EdgeRecord {
            from: run,
            to: binary,
        }));
    }
    mirror(conn, actor, records).await
}

/// The graph run that stands for MLflow run `run_id` producing a version of `name`, and the run
/// it shares when that is another model's.
///
/// In MLflow one run often logs several models registered under different names; in the graph a
/// workflow run is executed by exactly one model source (DESIGN.md section 1), which keeps "the
/// run that produced this binary" and "this model's runs" well defined for every metric. So the
/// first registered model that names the run gets `run:<run_id>`, and each other one a run of its
/// own, `run:<run_id>@<name>`, with the same state, times and training data and the tag
/// `mlflow.run_id` that links the two.
async fn graph_run(
    conn: &mut PgConnection,
    run_id: &str,
    name: &str,
) -> Result<(Ref, Option<repo::GraphRun>), MirrorError> {
    let first = key(&format!("run:{run_id}"));
    let shared = repo::graph_run(conn, &first)
        .await?
        .filter(|r| r.model.as_deref().is_some_and(|m| m != name));
    Ok(match shared {
        None => (first, None),
        Some(shared) => (key(&format!("{}@{name}", first.id)), Some(shared)),
    })
}

/// The registered model as a model source.
pub async fn mirror_model(
    conn: &mut PgConnection,
    actor: &str,
    name: &str,
) -> Result<(), MirrorError> {
    let (description, tags) = repo::model_description_tags(conn, name).await?;
    let mut record = asset(name.to_string(), AssetKind::ModelSource, name.to_string());
    record.description = Some(description);
    record.tags = Some(tag_map(&tags));
    mirror(conn, actor, vec![Record::Asset(record)]).await
}

/// The Staging and Production deployments of `name`: each serves the newest version in its
/// stage, and is retired (keeping its last binary) when none is left there.
pub async fn mirror_stages(
    conn: &mut PgConnection,
    actor: &str,
    name: &str,
) -> Result<(), MirrorError> {
    let mut records = Vec::new();
    for (stage, status) in [("Staging", "staging"), ("Production", "production")] {
        let newest = repo::newest_in_stage(conn, name, stage).await?;
        let id = format!("{name}@{stage}");
        let exists = repo::graph_has(conn, &key(&id)).await?;
        let mut deployment = asset(
            id.clone(),
            AssetKind::Deployment,
            format!("{name} ({stage})"),
        );
        match newest {
            Some(version) => {
                deployment.status = Some(status.into());
                records.push(Record::Asset(deployment));
                records.push(Record::Edge(EdgeRecord {
                    from: key(&format!("{name}/{version}")),
                    to: key(&id),
                }));
            }
            None if exists => {
                deployment.status = Some("retired".into());
                records.push(Record::Asset(deployment));
            }
            None => {}
        }
    }
    mirror(conn, actor, records).await
}

/// The stage an alias's deployment is in, read from the alias's name: the names teams give
/// what serves traffic are production, the names of what is about to are staging, any other
/// alias is development.
pub fn alias_status(alias: &str) -> &'static str {
    match alias.to_ascii_lowercase().as_str() {
        "production" | "prod" | "champion" | "live" => "production",
        "staging" | "stage" | "challenger" | "candidate" => "staging",
        _ => "development",
    }
}

/// The alias deployments of `name` (`<name>@alias:<alias>`): each serves the version its alias
/// points at, with the status its name says; one whose alias is gone is retired (keeping its last
/// binary).
pub async fn mirror_aliases(
    conn: &mut PgConnection,
    actor: &str,
    name: &str,
) -> Result<(), MirrorError> {
    let prefix = format!("{name}@alias:");
    let aliases = repo::aliases(conn, &[name.to_string()]).await?;
    let deployed = repo::live_deployments(conn, SOURCE, &prefix).await?;
    let mut records = Vec::new();
    for a in &aliases {
        let id = format!("{prefix}{}", a.alias);
        let mut deployment = asset(
            id.clone(),
            AssetKind::Deployment,
            format!("{name} (@{})", a.alias),
        );
        deployment.status = Some(alias_status(&a.alias).into());
        records.push(Record::Asset(deployment));
        records.push(Record::Edge(EdgeRecord {
            from: key(&format!("{name}/{}", a.version)),
            to: key(&id),
        }));
    }
    for id in deployed {
        let alias = &id[prefix.len()..];
        if !aliases.iter().any(|a| a.alias == alias) {
            let mut deployment = asset(
                id.clone(),
                AssetKind::Deployment,
                format!("{name} (@{alias})"),
            );
            deployment.status = Some("retired".into());
            records.push(Record::Asset(deployment));
        }
    }
    mirror(conn, actor, records).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_names_its_deployment_stage() {
        assert_eq!(alias_status("champion"), "production");
        assert_eq!(alias_status("Prod"), "production");
        assert_eq!(alias_status("challenger"), "staging");
        assert_eq!(alias_status("nightly"), "development");
    }
}
