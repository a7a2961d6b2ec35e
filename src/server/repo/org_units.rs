//! Org units: reading the tree and upserting units by their external key. Compiled only with `ssr`.

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

/// An org unit to create or update, its parent named by external key `(source, id)`.
#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    pub source: String,
    pub external_id: String,
    pub name: String,
    pub parent: Option<(String, String)>,
}

/// Creates or updates `units` by external key in two set-based statements (rows, then parents);
/// returns how many rows were new or changed. Parents must exist or be among `units`.
#[instrument(skip_all, fields(count = units.len()))]
pub async fn upsert_many(
    tx: &mut sqlx::PgConnection,
    units: &[NewOrgUnit],
) -> Result<u64, AppError> {
    let sources: Vec<&str> = units.iter().map(|u| u.source.as_str()).collect();
    let ids: Vec<&str> = units.iter().map(|u| u.external_id.as_str()).collect();
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    let written = sqlx::query!(
        r#"
        INSERT INTO org_units (source, external_id, name)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
        ON CONFLICT (source, external_id) DO UPDATE
            SET name = EXCLUDED.name, updated_at = now()
            WHERE org_units.name IS DISTINCT FROM EXCLUDED.name
        "#,
        &sources as &[&str],
        &ids as &[&str],
        &names as &[&str],
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();

    let parent_sources: Vec<Option<&str>> = units
        .iter()
        .map(|u| u.parent.as_ref().map(|(s, _)| s.as_str()))
        .collect();
    let parent_ids: Vec<Option<&str>> = units
        .iter()
        .map(|u| u.parent.as_ref().map(|(_, id)| id.as_str()))
        .collect();
    let reparented = sqlx::query!(
        r#"
        UPDATE org_units u
        SET parent_id = p.id, updated_at = now()
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
            AS x(source, external_id, parent_source, parent_external_id)
        LEFT JOIN org_units p
            ON p.source = x.parent_source AND p.external_id = x.parent_external_id
        WHERE u.source = x.source AND u.external_id = x.external_id
          AND u.parent_id IS DISTINCT FROM p.id
        "#,
        &sources as &[&str],
        &ids as &[&str],
        &parent_sources as &[Option<&str>],
        &parent_ids as &[Option<&str>],
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(written + reparented)
}
