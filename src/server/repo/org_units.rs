//! Org units: reading the tree (writes go through `ingest`). Compiled only with `ssr`.

use sqlx::{PgExecutor, PgPool};
use tracing::instrument;

use crate::error::AppError;
use crate::model::record::Ref;
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

/// Keeps which org unit is the company (`MODELGOV_COMPANY`), or, with `None`, lets the first
/// top-level unit written be the company. The unit need not exist yet.
pub async fn set_company(pool: &PgPool, company: Option<&Ref>) -> Result<(), sqlx::Error> {
    match company {
        Some(unit) => {
            sqlx::query!(
                r#"
                INSERT INTO company (source, external_id) VALUES ($1, $2)
                ON CONFLICT (singleton) DO UPDATE SET source = $1, external_id = $2
                "#,
                unit.source,
                unit.id,
            )
            .execute(pool)
            .await?;
        }
        None => {
            sqlx::query!("DELETE FROM company").execute(pool).await?;
        }
    }
    Ok(())
}
