//! What an MLflow write means in the graph, written in the call's transaction: registered models
//! are model sources, versions model binaries (with their run), the Staging and Production
//! stages and every alias deployments. The MLflow API (`rest::mlflow`) calls these after its own
//! writes; like OpenLineage's, its records go through `apply`, the one way into the graph.

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::PgConnection;

use super::apply;
use super::parse::Item;
use crate::error::AppError;
use crate::model::record::{AssetKind, AssetRecord, EdgeRecord, Outcome, Record, Ref};

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

/// The registered model as a model source.
pub async fn mirror_model(
    conn: &mut PgConnection,
    actor: &str,
    name: &str,
) -> Result<(), MirrorError> {
    let row = sqlx::query!(
        "SELECT description, tags FROM mlflow_models WHERE name = $1",
        name
    )
    .fetch_one(&mut *conn)
    .await?;
    let mut record = asset(name.to_string(), AssetKind::ModelSource, name.to_string());
    record.description = Some(row.description);
    record.tags = Some(tag_map(&row.tags));
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
        let newest = sqlx::query_scalar!(
            "SELECT max(version) FROM mlflow_versions WHERE name = $1 AND stage = $2",
            name,
            stage
        )
        .fetch_one(&mut *conn)
        .await?;
        let id = format!("{name}@{stage}");
        let exists = sqlx::query_scalar!(
            "SELECT 1 FROM assets WHERE source = $1 AND external_id = $2",
            SOURCE,
            id
        )
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
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
                    from: Ref {
                        source: SOURCE.into(),
                        id: format!("{name}/{version}"),
                    },
                    to: Ref {
                        source: SOURCE.into(),
                        id,
                    },
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
    let aliases = sqlx::query!(
        "SELECT alias, version FROM mlflow_aliases WHERE name = $1",
        name
    )
    .fetch_all(&mut *conn)
    .await?;
    let deployed = sqlx::query_scalar!(
        r#"
        SELECT external_id FROM assets
        WHERE source = $1 AND kind = 'deployment' AND starts_with(external_id, $2)
          AND status <> 'retired'
        "#,
        SOURCE,
        prefix,
    )
    .fetch_all(&mut *conn)
    .await?;
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
            from: Ref {
                source: SOURCE.into(),
                id: format!("{name}/{}", a.version),
            },
            to: Ref {
                source: SOURCE.into(),
                id,
            },
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
