//! Org units: reading the tree (writes go through `ingest`). Compiled only with `ssr`.

use sqlx::{PgExecutor, PgPool};
use tracing::instrument;

use crate::error::AppError;
use crate::model::OrgUnitSummary;
use crate::model::metrics::UnitName;
use crate::model::record::Ref;

/// Every org unit in depth-first order, names sorted among siblings, in one recursive query.
#[instrument(skip_all)]
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<OrgUnitSummary>, AppError> {
    let rows = sqlx::query_file!("queries/org_unit_tree.sql")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| OrgUnitSummary {
            unit: UnitName {
                id: row.id,
                source: row.source,
                external_id: row.external_id,
                name: row.name,
            },
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

/// The units from the top down to `unit_id`, inclusive, each marked when it is the company.
pub async fn ancestry(pool: &PgPool, unit_id: i64) -> Result<Vec<(UnitName, bool)>, AppError> {
    let rows = sqlx::query!(
        r#"
        WITH RECURSIVE up(id, n) AS (
            SELECT $1::bigint, 0
            UNION ALL
            SELECT u.parent_id, up.n + 1 FROM org_units u JOIN up ON u.id = up.id
            WHERE u.parent_id IS NOT NULL AND up.n < 64
        )
        SELECT u.id, u.source, u.external_id, u.name,
               u.id IS NOT DISTINCT FROM modelgov_company() AS "top!"
        FROM up JOIN org_units u ON u.id = up.id
        ORDER BY up.n DESC
        "#,
        unit_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                UnitName {
                    id: r.id,
                    source: r.source,
                    external_id: r.external_id,
                    name: r.name,
                },
                r.top,
            )
        })
        .collect())
}

/// The units with these ids, as scorecards name them (in no particular order).
pub async fn names(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<UnitName>, AppError> {
    Ok(sqlx::query_as!(
        UnitName,
        "SELECT id, source, external_id, name FROM org_units WHERE id = ANY($1)",
        ids
    )
    .fetch_all(db)
    .await?)
}

/// The id of the unit with this key; 404 naming it when there is none.
pub async fn id_of(db: impl PgExecutor<'_>, key: &Ref) -> Result<i64, AppError> {
    sqlx::query_scalar!(
        "SELECT id FROM org_units WHERE source = $1 AND external_id = $2",
        key.source,
        key.id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no org unit {key}")))
}
