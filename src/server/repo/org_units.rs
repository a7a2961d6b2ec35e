//! Org units: reading the tree (writes go through `ingest`). Compiled only with `ssr`.

use sqlx::PgExecutor;
use tracing::instrument;

use crate::error::AppError;
use crate::model::{OrgUnitId, OrgUnitSummary};

/// Every org unit in depth-first order, names sorted among siblings, in one recursive query.
#[instrument(skip_all)]
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<OrgUnitSummary>, AppError> {
    let rows = sqlx::query_file!("queries/org_unit_tree.sql")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| OrgUnitSummary {
            id: OrgUnitId(row.id),
            source: row.source,
            external_id: row.external_id,
            name: row.name,
            ancestors: row.ancestors,
            depth: row.depth,
            children: row.children,
            model_sources: row.model_sources,
        })
        .collect())
}
