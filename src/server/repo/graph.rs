//! The SQL behind ingestion: lookups of what a batch names, and set-based writes (one statement per
//! table and kind of change, whatever the batch size). Compiled only with `ssr`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tracing::instrument;

use crate::model::record::{AssetKind, Ref};

/// An asset the database already holds.
#[derive(Debug, Clone, Copy)]
pub struct AssetRow {
    pub id: i64,
    pub kind: AssetKind,
}

#[derive(Debug, Clone)]
pub struct UnitWrite {
    pub key: Ref,
    pub name: String,
    /// `None` keeps the stored description.
    pub description: Option<String>,
}

/// An asset to write; `None` fields keep what is stored.
#[derive(Debug, Clone)]
pub struct AssetWrite {
    pub exists: bool,
    pub key: Ref,
    pub kind: AssetKind,
    pub label: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<Ref>,
    pub owners: Option<Vec<String>>,
    pub tags: Option<BTreeMap<String, String>>,
    pub status: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy)]
pub struct EdgeWrite {
    pub from_id: i64,
    pub from_kind: AssetKind,
    pub to_id: i64,
    pub to_kind: AssetKind,
    /// An edge into a deployment replaces the binary it served before.
    pub replaces: bool,
}

#[derive(Debug, Clone)]
pub struct MeasurementWrite {
    pub asset_id: i64,
    pub name: String,
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// What `write_assets` did: (created, updated, the id of every written asset).
pub type AssetWrites = (HashSet<Ref>, HashSet<Ref>, HashMap<Ref, i64>);
/// Edges as `(from id, to id)`, optional so that answers can look them up by resolved ids.
pub type EdgeIds = HashSet<(Option<i64>, Option<i64>)>;
/// Measurements as `(asset id, name, at)`.
pub type MeasurementIds = HashSet<(Option<i64>, String, DateTime<Utc>)>;

fn split(keys: impl IntoIterator<Item = Ref>) -> (Vec<String>, Vec<String>) {
    keys.into_iter().map(|r| (r.source, r.id)).unzip()
}

fn key(source: String, id: String) -> Ref {
    Ref { source, id }
}

/// Names who writes in this transaction, for the history the triggers keep.
pub async fn set_actor(tx: &mut PgConnection, actor: &str) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!("SELECT set_config('modelgov.actor', $1, true)", actor)
        .fetch_one(tx)
        .await?;
    Ok(())
}

#[instrument(skip_all, fields(count = wanted.len()))]
pub async fn label_mappings(
    tx: &mut PgConnection,
    wanted: &HashSet<(String, String)>,
) -> Result<HashMap<(String, String), AssetKind>, sqlx::Error> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let (sources, labels): (Vec<String>, Vec<String>) = wanted.iter().cloned().unzip();
    let rows = sqlx::query!(
        r#"
        SELECT m.source, m.label, m.kind::text AS "kind!"
        FROM label_mappings m
        JOIN unnest($1::text[], $2::text[]) AS x(source, label)
            ON m.source = x.source AND m.label = x.label
        "#,
        &sources,
        &labels,
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some(((row.source, row.label), AssetKind::parse(&row.kind)?)))
        .collect())
}

#[instrument(skip_all, fields(count = keys.len()))]
pub async fn find_units(
    tx: &mut PgConnection,
    keys: &HashSet<Ref>,
) -> Result<HashMap<Ref, i64>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let (sources, ids) = split(keys.iter().cloned());
    let rows = sqlx::query!(
        r#"
        SELECT u.id, u.source, u.external_id
        FROM org_units u
        JOIN unnest($1::text[], $2::text[]) AS x(source, external_id)
            ON u.source = x.source AND u.external_id = x.external_id
        "#,
        &sources,
        &ids,
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (key(row.source, row.external_id), row.id))
        .collect())
}

#[instrument(skip_all, fields(count = keys.len()))]
pub async fn find_assets(
    tx: &mut PgConnection,
    keys: &HashSet<Ref>,
) -> Result<HashMap<Ref, AssetRow>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let (sources, ids) = split(keys.iter().cloned());
    let rows = sqlx::query!(
        r#"
        SELECT a.id, a.source, a.external_id, a.kind::text AS "kind!"
        FROM assets a
        JOIN unnest($1::text[], $2::text[]) AS x(source, external_id)
            ON a.source = x.source AND a.external_id = x.external_id
        "#,
        &sources,
        &ids,
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let kind = AssetKind::parse(&row.kind)?;
            Some((
                key(row.source, row.external_id),
                AssetRow { id: row.id, kind },
            ))
        })
        .collect())
}

/// Child -> parent for every unit on the chains above `keys` (inclusive), by external key.
#[instrument(skip_all, fields(count = keys.len()))]
pub async fn unit_ancestry(
    tx: &mut PgConnection,
    keys: &HashSet<Ref>,
) -> Result<HashMap<Ref, Ref>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let (sources, ids) = split(keys.iter().cloned());
    let rows = sqlx::query!(
        r#"
        WITH RECURSIVE up(id, parent_id) AS (
            SELECT u.id, u.parent_id
            FROM org_units u
            JOIN unnest($1::text[], $2::text[]) AS x(source, external_id)
                ON u.source = x.source AND u.external_id = x.external_id
            UNION
            SELECT p.id, p.parent_id FROM org_units p JOIN up ON p.id = up.parent_id
        )
        SELECT c.source AS "source!", c.external_id AS "external_id!",
               p.source AS "parent_source!", p.external_id AS "parent_external_id!"
        FROM up
        JOIN org_units c ON c.id = up.id
        JOIN org_units p ON p.id = up.parent_id
        "#,
        &sources,
        &ids,
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                key(row.source, row.external_id),
                key(row.parent_source, row.parent_external_id),
            )
        })
        .collect())
}

/// For assets at the "exactly one" end of an edge rule, the record at the other end today.
#[instrument(skip_all, fields(count = to_ids.len()))]
pub async fn single_sources(
    tx: &mut PgConnection,
    to_ids: &HashSet<i64>,
) -> Result<HashMap<i64, Ref>, sqlx::Error> {
    if to_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let to_ids: Vec<i64> = to_ids.iter().copied().collect();
    let rows = sqlx::query!(
        r#"
        SELECT e.to_id, f.source, f.external_id
        FROM edges e
        JOIN assets f ON f.id = e.from_id
        WHERE e.to_id = ANY($1::bigint[])
          AND (e.to_kind IN ('logical_feature', 'model_binary') OR e.from_kind = 'model_source')
        "#,
        &to_ids,
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.to_id, key(row.source, row.external_id)))
        .collect())
}

/// Updates the units that exist and inserts the others; returns (created, updated) keys.
#[instrument(skip_all, fields(count = units.len()))]
pub async fn write_units(
    tx: &mut PgConnection,
    units: &[UnitWrite],
    existing: &HashMap<Ref, i64>,
) -> Result<(HashSet<Ref>, HashSet<Ref>), sqlx::Error> {
    let (old, new): (Vec<&UnitWrite>, Vec<&UnitWrite>) =
        units.iter().partition(|u| existing.contains_key(&u.key));
    let mut updated = HashSet::new();
    if !old.is_empty() {
        let (sources, ids) = split(old.iter().map(|u| u.key.clone()));
        let names: Vec<&str> = old.iter().map(|u| u.name.as_str()).collect();
        let descriptions: Vec<Option<&str>> =
            old.iter().map(|u| u.description.as_deref()).collect();
        let rows = sqlx::query!(
            r#"
            UPDATE org_units u
            SET name = x.name, description = COALESCE(x.description, u.description), updated_at = now()
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                AS x(source, external_id, name, description)
            WHERE u.source = x.source AND u.external_id = x.external_id
              AND (u.name, u.description)
                  IS DISTINCT FROM (x.name, COALESCE(x.description, u.description))
            RETURNING u.source, u.external_id
            "#,
            &sources,
            &ids,
            &names as &[&str],
            &descriptions as &[Option<&str>],
        )
        .fetch_all(&mut *tx)
        .await?;
        updated.extend(rows.into_iter().map(|row| key(row.source, row.external_id)));
    }
    let mut created = HashSet::new();
    if !new.is_empty() {
        let (sources, ids) = split(new.iter().map(|u| u.key.clone()));
        let names: Vec<&str> = new.iter().map(|u| u.name.as_str()).collect();
        let descriptions: Vec<&str> = new
            .iter()
            .map(|u| u.description.as_deref().unwrap_or(""))
            .collect();
        let rows = sqlx::query!(
            r#"
            INSERT INTO org_units (source, external_id, name, description)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
            ON CONFLICT (source, external_id) DO NOTHING
            RETURNING source, external_id
            "#,
            &sources,
            &ids,
            &names as &[&str],
            &descriptions as &[&str],
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.len() != new.len() {
            // Another writer created one of them since we looked.
            return Err(sqlx::Error::RowNotFound);
        }
        created.extend(rows.into_iter().map(|row| key(row.source, row.external_id)));
    }
    Ok((created, updated))
}

/// Hangs units below their parents; returns the keys whose parent changed.
#[instrument(skip_all, fields(count = parents.len()))]
pub async fn write_parents(
    tx: &mut PgConnection,
    parents: &BTreeMap<Ref, Ref>,
) -> Result<HashSet<Ref>, sqlx::Error> {
    if parents.is_empty() {
        return Ok(HashSet::new());
    }
    let (sources, ids) = split(parents.keys().cloned());
    let (parent_sources, parent_ids) = split(parents.values().cloned());
    let rows = sqlx::query!(
        r#"
        UPDATE org_units u
        SET parent_id = p.id, updated_at = now()
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
            AS x(source, external_id, parent_source, parent_external_id)
        JOIN org_units p ON p.source = x.parent_source AND p.external_id = x.parent_external_id
        WHERE u.source = x.source AND u.external_id = x.external_id
          AND u.parent_id IS DISTINCT FROM p.id
        RETURNING u.source, u.external_id
        "#,
        &sources,
        &ids,
        &parent_sources,
        &parent_ids,
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| key(row.source, row.external_id))
        .collect())
}

/// Column arrays of asset writes, for `unnest`.
struct AssetColumns {
    sources: Vec<String>,
    ids: Vec<String>,
    kinds: Vec<&'static str>,
    labels: Vec<Option<String>>,
    names: Vec<String>,
    descriptions: Vec<Option<String>>,
    owner_sources: Vec<Option<String>>,
    owner_ids: Vec<Option<String>>,
    owners: Vec<Option<serde_json::Value>>,
    tags: Vec<Option<serde_json::Value>>,
    statuses: Vec<Option<String>>,
    started: Vec<Option<DateTime<Utc>>>,
    ended: Vec<Option<DateTime<Utc>>>,
}

impl AssetColumns {
    fn of(rows: &[&AssetWrite]) -> Self {
        Self {
            sources: rows.iter().map(|a| a.key.source.clone()).collect(),
            ids: rows.iter().map(|a| a.key.id.clone()).collect(),
            kinds: rows.iter().map(|a| a.kind.as_str()).collect(),
            labels: rows.iter().map(|a| a.label.clone()).collect(),
            names: rows.iter().map(|a| a.name.clone()).collect(),
            descriptions: rows.iter().map(|a| a.description.clone()).collect(),
            owner_sources: rows
                .iter()
                .map(|a| a.owner.as_ref().map(|o| o.source.clone()))
                .collect(),
            owner_ids: rows
                .iter()
                .map(|a| a.owner.as_ref().map(|o| o.id.clone()))
                .collect(),
            owners: rows
                .iter()
                .map(|a| a.owners.as_ref().map(|o| serde_json::json!(o)))
                .collect(),
            tags: rows
                .iter()
                .map(|a| a.tags.as_ref().map(|t| serde_json::json!(t)))
                .collect(),
            statuses: rows.iter().map(|a| a.status.clone()).collect(),
            started: rows.iter().map(|a| a.started_at).collect(),
            ended: rows.iter().map(|a| a.ended_at).collect(),
        }
    }
}

/// Updates the assets that exist (fields left out keep their value) and inserts the others;
/// returns (created, updated, id of every written asset).
#[instrument(skip_all, fields(count = assets.len()))]
pub async fn write_assets(
    tx: &mut PgConnection,
    assets: &[AssetWrite],
) -> Result<AssetWrites, sqlx::Error> {
    let (old, new): (Vec<&AssetWrite>, Vec<&AssetWrite>) = assets.iter().partition(|a| a.exists);
    let mut ids = HashMap::new();
    let mut updated = HashSet::new();
    if !old.is_empty() {
        let c = AssetColumns::of(&old);
        let rows = sqlx::query_file!(
            "queries/update_assets.sql",
            &c.sources,
            &c.ids,
            &c.labels as &[Option<String>],
            &c.names,
            &c.descriptions as &[Option<String>],
            &c.owner_sources as &[Option<String>],
            &c.owner_ids as &[Option<String>],
            &c.owners as &[Option<serde_json::Value>],
            &c.tags as &[Option<serde_json::Value>],
            &c.statuses as &[Option<String>],
            &c.started as &[Option<DateTime<Utc>>],
            &c.ended as &[Option<DateTime<Utc>>],
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let k = key(row.source, row.external_id);
            ids.insert(k.clone(), row.id);
            updated.insert(k);
        }
    }
    let mut created = HashSet::new();
    if !new.is_empty() {
        let c = AssetColumns::of(&new);
        let rows = sqlx::query_file!(
            "queries/insert_assets.sql",
            &c.sources,
            &c.ids,
            &c.kinds as &[&str],
            &c.labels as &[Option<String>],
            &c.names,
            &c.descriptions as &[Option<String>],
            &c.owner_sources as &[Option<String>],
            &c.owner_ids as &[Option<String>],
            &c.owners as &[Option<serde_json::Value>],
            &c.tags as &[Option<serde_json::Value>],
            &c.statuses as &[Option<String>],
            &c.started as &[Option<DateTime<Utc>>],
            &c.ended as &[Option<DateTime<Utc>>],
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.len() != new.len() {
            return Err(sqlx::Error::RowNotFound);
        }
        for row in rows {
            let k = key(row.source, row.external_id);
            ids.insert(k.clone(), row.id);
            created.insert(k);
        }
    }
    Ok((created, updated, ids))
}

/// Inserts edges; an edge into a deployment replaces the one it had. Returns (created, updated).
#[instrument(skip_all, fields(count = edges.len()))]
pub async fn write_edges(
    tx: &mut PgConnection,
    edges: &[EdgeWrite],
) -> Result<(EdgeIds, EdgeIds), sqlx::Error> {
    let mut updated = HashSet::new();
    if edges.is_empty() {
        return Ok((HashSet::new(), updated));
    }
    let replacing: Vec<&EdgeWrite> = edges.iter().filter(|e| e.replaces).collect();
    if !replacing.is_empty() {
        let from_ids: Vec<i64> = replacing.iter().map(|e| e.from_id).collect();
        let from_kinds: Vec<&str> = replacing.iter().map(|e| e.from_kind.as_str()).collect();
        let to_ids: Vec<i64> = replacing.iter().map(|e| e.to_id).collect();
        let rows = sqlx::query!(
            r#"
            UPDATE edges e
            SET from_id = x.from_id, from_kind = x.from_kind::asset_kind, created_at = now()
            FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS x(from_id, from_kind, to_id)
            WHERE e.to_id = x.to_id AND e.to_kind = 'deployment' AND e.from_id <> x.from_id
            RETURNING e.from_id, e.to_id
            "#,
            &from_ids,
            &from_kinds as &[&str],
            &to_ids,
        )
        .fetch_all(&mut *tx)
        .await?;
        updated.extend(
            rows.into_iter()
                .map(|row| (Some(row.from_id), Some(row.to_id))),
        );
    }
    let from_ids: Vec<i64> = edges.iter().map(|e| e.from_id).collect();
    let from_kinds: Vec<&str> = edges.iter().map(|e| e.from_kind.as_str()).collect();
    let to_ids: Vec<i64> = edges.iter().map(|e| e.to_id).collect();
    let to_kinds: Vec<&str> = edges.iter().map(|e| e.to_kind.as_str()).collect();
    let rows = sqlx::query!(
        r#"
        INSERT INTO edges (from_id, from_kind, to_id, to_kind)
        SELECT x.from_id, x.from_kind::asset_kind, x.to_id, x.to_kind::asset_kind
        FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[])
            AS x(from_id, from_kind, to_id, to_kind)
        ON CONFLICT (from_id, to_id) DO NOTHING
        RETURNING from_id, to_id
        "#,
        &from_ids,
        &from_kinds as &[&str],
        &to_ids,
        &to_kinds as &[&str],
    )
    .fetch_all(&mut *tx)
    .await?;
    let created = rows
        .into_iter()
        .map(|row| (Some(row.from_id), Some(row.to_id)))
        .collect();
    Ok((created, updated))
}

/// Inserts measurements; the same asset, name and time with another value updates it.
#[instrument(skip_all, fields(count = measurements.len()))]
pub async fn write_measurements(
    tx: &mut PgConnection,
    measurements: &[MeasurementWrite],
) -> Result<(MeasurementIds, MeasurementIds), sqlx::Error> {
    if measurements.is_empty() {
        return Ok((HashSet::new(), HashSet::new()));
    }
    let asset_ids: Vec<i64> = measurements.iter().map(|m| m.asset_id).collect();
    let names: Vec<&str> = measurements.iter().map(|m| m.name.as_str()).collect();
    let ats: Vec<DateTime<Utc>> = measurements.iter().map(|m| m.at).collect();
    let values: Vec<f64> = measurements.iter().map(|m| m.value).collect();
    let rows = sqlx::query!(
        r#"
        INSERT INTO measurements (asset_id, name, at, value)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::float8[])
        ON CONFLICT (asset_id, name, at) DO UPDATE
            SET value = EXCLUDED.value, received_at = now()
            WHERE measurements.value IS DISTINCT FROM EXCLUDED.value
        RETURNING asset_id, name, at, (xmax = 0) AS "created!"
        "#,
        &asset_ids,
        &names as &[&str],
        &ats,
        &values,
    )
    .fetch_all(tx)
    .await?;
    let (mut created, mut updated) = (HashSet::new(), HashSet::new());
    for row in rows {
        let id = (Some(row.asset_id), row.name, row.at);
        if row.created {
            created.insert(id);
        } else {
            updated.insert(id);
        }
    }
    Ok((created, updated))
}

/// Keeps what the graph refused, with why, as the ingestion page lists it (the newest 10,000).
pub async fn write_rejections(
    tx: &mut PgConnection,
    refused: &[(String, String, Option<serde_json::Value>, String)],
) -> Result<(), sqlx::Error> {
    if refused.is_empty() {
        return Ok(());
    }
    // A record may have been refused for the NUL character that Postgres cannot store: it is
    // kept with U+FFFD in its place.
    let clean = |text: &str| text.replace('\0', "\u{fffd}");
    let sources: Vec<String> = refused.iter().map(|r| clean(&r.0)).collect();
    let ids: Vec<String> = refused.iter().map(|r| clean(&r.1)).collect();
    let records: Vec<Option<serde_json::Value>> = refused
        .iter()
        .map(|r| {
            r.2.clone().map(|mut record| {
                crate::model::text::scrub_nul(&mut record);
                record
            })
        })
        .collect();
    let reasons: Vec<String> = refused.iter().map(|r| clean(&r.3)).collect();
    sqlx::query!(
        r#"
        INSERT INTO rejections (source, external_id, record, reason, actor)
        SELECT x.source, x.external_id, x.record, x.reason, modelgov_actor()
        FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[]) AS x(source, external_id, record, reason)
        "#,
        &sources,
        &ids,
        &records as &[Option<serde_json::Value>],
        &reasons,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM rejections WHERE id <= (SELECT max(id) - 10000 FROM rejections)")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Keeps records whose label has no mapping yet, whole, until one is added.
#[instrument(skip_all, fields(count = records.len()))]
pub async fn write_quarantine(
    tx: &mut PgConnection,
    records: &[(Ref, String, serde_json::Value)],
) -> Result<(), sqlx::Error> {
    if records.is_empty() {
        return Ok(());
    }
    let (sources, ids) = split(records.iter().map(|(k, _, _)| k.clone()));
    let labels: Vec<&str> = records.iter().map(|(_, l, _)| l.as_str()).collect();
    let bodies: Vec<serde_json::Value> = records.iter().map(|(_, _, r)| r.clone()).collect();
    sqlx::query!(
        r#"
        INSERT INTO quarantine (source, external_id, label, record, actor)
        SELECT x.source, x.external_id, x.label, x.record, modelgov_actor()
        FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS x(source, external_id, label, record)
        ON CONFLICT (source, external_id) DO UPDATE
            SET label = EXCLUDED.label, record = EXCLUDED.record, actor = EXCLUDED.actor,
                received_at = now()
        "#,
        &sources,
        &ids,
        &labels as &[&str],
        &bodies,
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Which of `keys` are records waiting in quarantine, locked until the transaction ends (a
/// mapping applying them at the same moment waits, so that nothing starts waiting for a record
/// that has just left).
pub async fn quarantined(
    tx: &mut PgConnection,
    keys: &HashSet<Ref>,
) -> Result<HashSet<Ref>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let (sources, ids) = split(keys.iter().cloned());
    let rows = sqlx::query!(
        r#"
        SELECT q.source, q.external_id FROM quarantine q
        JOIN unnest($1::text[], $2::text[]) AS x(source, external_id)
          ON q.source = x.source AND q.external_id = x.external_id
        FOR KEY SHARE OF q
        "#,
        &sources,
        &ids,
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| key(r.source, r.external_id))
        .collect())
}

/// Keeps edges and measurements (`record`) that wait for a quarantined record (`waiting_for`).
pub async fn write_quarantine_dependents(
    tx: &mut PgConnection,
    records: &[(Ref, serde_json::Value)],
) -> Result<(), sqlx::Error> {
    if records.is_empty() {
        return Ok(());
    }
    let (sources, ids) = split(records.iter().map(|(k, _)| k.clone()));
    let bodies: Vec<serde_json::Value> = records.iter().map(|(_, r)| r.clone()).collect();
    sqlx::query!(
        r#"
        INSERT INTO quarantine_dependents (source, external_id, record, actor)
        SELECT x.source, x.external_id, x.record, modelgov_actor()
        FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS x(source, external_id, record, n)
        ORDER BY x.n
        "#,
        &sources,
        &ids,
        &bodies,
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// The assets `keys` were just written: whatever of them waited in quarantine leaves it (the
/// newer write wins), and the edges and measurements that waited for them are taken, in the
/// order they arrived, to be applied now.
pub async fn release_quarantined(
    tx: &mut PgConnection,
    keys: &[Ref],
) -> Result<Vec<serde_json::Value>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let (sources, ids) = split(keys.iter().cloned());
    sqlx::query_scalar!(
        r#"
        WITH written AS (
            SELECT * FROM unnest($1::text[], $2::text[]) AS x(source, external_id)
        ),
        left_quarantine AS (
            DELETE FROM quarantine q USING written w
            WHERE q.source = w.source AND q.external_id = w.external_id
        ),
        taken AS (
            DELETE FROM quarantine_dependents d USING written w
            WHERE d.source = w.source AND d.external_id = w.external_id
            RETURNING d.id, d.record
        )
        SELECT record AS "record!" FROM taken ORDER BY id
        "#,
        &sources,
        &ids,
    )
    .fetch_all(&mut *tx)
    .await
}
