//! Assets of the graph (for now: model sources and their owners). Compiled only with `ssr`.

use tracing::instrument;

use crate::error::AppError;

/// A model source to create or update, its owning unit named by external key `(source, id)`.
#[derive(Debug, Clone)]
pub struct NewModelSource {
    pub source: String,
    pub external_id: String,
    pub name: String,
    pub owner: Option<(String, String)>,
}

/// Creates or updates model sources by external key in one statement; returns how many rows were
/// new or changed.
#[instrument(skip_all, fields(count = models.len()))]
pub async fn upsert_model_sources(
    tx: &mut sqlx::PgConnection,
    models: &[NewModelSource],
) -> Result<u64, AppError> {
    let sources: Vec<&str> = models.iter().map(|m| m.source.as_str()).collect();
    let ids: Vec<&str> = models.iter().map(|m| m.external_id.as_str()).collect();
    let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    let owner_sources: Vec<Option<&str>> = models
        .iter()
        .map(|m| m.owner.as_ref().map(|(s, _)| s.as_str()))
        .collect();
    let owner_ids: Vec<Option<&str>> = models
        .iter()
        .map(|m| m.owner.as_ref().map(|(_, id)| id.as_str()))
        .collect();
    let written = sqlx::query!(
        r#"
        INSERT INTO assets (source, external_id, kind, name, owner_unit_id)
        SELECT x.source, x.external_id, 'model_source', x.name, o.id
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
            AS x(source, external_id, name, owner_source, owner_external_id)
        LEFT JOIN org_units o
            ON o.source = x.owner_source AND o.external_id = x.owner_external_id
        ON CONFLICT (source, external_id) DO UPDATE
            SET name = EXCLUDED.name, owner_unit_id = EXCLUDED.owner_unit_id, updated_at = now()
            WHERE (assets.name, assets.owner_unit_id)
                IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.owner_unit_id)
        "#,
        &sources as &[&str],
        &ids as &[&str],
        &names as &[&str],
        &owner_sources as &[Option<&str>],
        &owner_ids as &[Option<&str>],
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(written)
}
