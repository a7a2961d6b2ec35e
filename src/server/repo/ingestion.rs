//! Ingestion's tables: the label mappings and the quarantine waiting for them (read for the
//! ingestion view, edited by `ingest::remap`), and the kept OpenLineage events (kept and folded
//! by `ingest::openlineage`). Compiled only with `ssr`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::AppError;
use crate::model::ingestion::{
    EventRow, MappingRow, QuarantineRow, RECENT_CHANGES, RejectionRow, SourceActivity,
};
use crate::model::record::AssetKind;
use crate::server::metrics::reads::rfc3339;

/// Every mapping, and every label waiting in quarantine without one.
pub async fn mappings(db: impl PgExecutor<'_>) -> Result<Vec<MappingRow>, AppError> {
    Ok(sqlx::query_as!(
        MappingRow,
        r#"
        SELECT coalesce(m.source, q.source) AS "source!", coalesce(m.label, q.label) AS "label!",
               coalesce(m.kind::text, '') AS "kind!", coalesce(q.n, 0) AS "quarantined!"
        FROM label_mappings m
        FULL JOIN (SELECT source, label, count(*) AS n FROM quarantine GROUP BY source, label) q
            ON q.source = m.source AND q.label = m.label
        ORDER BY 1, 2
        "#
    )
    .fetch_all(db)
    .await?)
}

/// The records waiting for a mapping (of `source`, or all), newest first.
pub async fn quarantine(
    db: impl PgExecutor<'_>,
    source: Option<&str>,
    limit: i64,
) -> Result<Vec<QuarantineRow>, AppError> {
    let rows = sqlx::query!(
        r#"
        SELECT source, external_id, label, actor, received_at FROM quarantine
        WHERE $1::text IS NULL OR source = $1
        ORDER BY received_at DESC, source, external_id LIMIT $2
        "#,
        source,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| QuarantineRow {
            source: r.source,
            external_id: r.external_id,
            label: r.label,
            actor: r.actor,
            received_at: rfc3339(r.received_at),
        })
        .collect())
}

/// The OpenLineage events received last, newest first.
pub async fn events(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<EventRow>, AppError> {
    let rows = sqlx::query!(
        r#"
        SELECT received_at, run_id, event_type, event_time, job_namespace, job_name, actor
        FROM lineage_events ORDER BY id DESC LIMIT $1
        "#,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| EventRow {
            received_at: rfc3339(r.received_at),
            run_id: r.run_id,
            event_type: r.event_type,
            event_time: rfc3339(r.event_time),
            job: format!("{}/{}", r.job_namespace, r.job_name),
            actor: r.actor,
        })
        .collect())
}

/// Per source system, its latest write among the newest [`RECENT_CHANGES`] changes, the most
/// recently active source first.
pub async fn sources(db: impl PgExecutor<'_>) -> Result<Vec<SourceActivity>, AppError> {
    let rows = sqlx::query!(
        r#"
        WITH recent AS (
            SELECT id, at, actor, subject, op, asset_id FROM changes ORDER BY id DESC LIMIT $1
        )
        SELECT a.source,
               max(r.at) AS "last_at!",
               (array_agg(r.actor ORDER BY r.id DESC))[1] AS "actor!",
               (array_agg(r.subject || ' ' || replace(r.op, '_', ' ') || ': ' || a.name ORDER BY r.id DESC))[1] AS "last_change!",
               count(*) AS "changes!"
        FROM recent r JOIN assets a ON a.id = r.asset_id
        GROUP BY a.source
        ORDER BY 2 DESC
        "#,
        RECENT_CHANGES,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SourceActivity {
            source: r.source,
            last_at: rfc3339(r.last_at),
            actor: r.actor,
            last_change: r.last_change,
            changes: r.changes,
        })
        .collect())
}

/// The records refused last, newest first.
pub async fn rejections(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<RejectionRow>, AppError> {
    let rows = sqlx::query!(
        "SELECT source, external_id, reason, actor, at FROM rejections ORDER BY id DESC LIMIT $1",
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RejectionRow {
            source: r.source,
            external_id: r.external_id,
            reason: r.reason,
            actor: r.actor,
            at: rfc3339(r.at),
        })
        .collect())
}

/// Removes a label mapping; false when there was none.
pub async fn delete_mapping(
    db: impl PgExecutor<'_>,
    source: &str,
    label: &str,
) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query!(
        "DELETE FROM label_mappings WHERE source = $1 AND label = $2",
        source,
        label
    )
    .execute(db)
    .await?;
    Ok(removed.rows_affected() > 0)
}

/// Sets `(source, label) -> kind`.
pub async fn upsert_mapping(
    db: impl PgExecutor<'_>,
    source: &str,
    label: &str,
    kind: AssetKind,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        INSERT INTO label_mappings (source, label, kind) VALUES ($1, $2, $3::text::asset_kind)
        ON CONFLICT (source, label) DO UPDATE SET kind = EXCLUDED.kind, created_at = now()
        "#,
        source,
        label,
        kind.as_str(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A record waiting in quarantine for a mapping of its label.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub external_id: String,
    pub record: serde_json::Value,
}

/// The records of `source` waiting for `label`, oldest first.
pub async fn waiting(
    db: impl PgExecutor<'_>,
    source: &str,
    label: &str,
) -> Result<Vec<Waiting>, sqlx::Error> {
    sqlx::query_as!(
        Waiting,
        "SELECT external_id, record FROM quarantine WHERE source = $1 AND label = $2 ORDER BY received_at",
        source,
        label,
    )
    .fetch_all(db)
    .await
}

/// Lets quarantined records of `source` go (they were applied).
pub async fn release(
    db: impl PgExecutor<'_>,
    source: &str,
    external_ids: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM quarantine WHERE source = $1 AND external_id = ANY($2)",
        source,
        external_ids,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// How many records of `source` still wait for `label`.
pub async fn still_waiting(
    db: impl PgExecutor<'_>,
    source: &str,
    label: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM quarantine WHERE source = $1 AND label = $2"#,
        source,
        label,
    )
    .fetch_one(db)
    .await
}

/// The newest `most` kept OpenLineage events whose text holds `label` (in any case), oldest
/// first.
pub async fn events_naming(
    db: impl PgExecutor<'_>,
    label: &str,
    most: i64,
) -> Result<Vec<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"
        SELECT event FROM (
            SELECT id, event FROM lineage_events
            WHERE upper(event::text) LIKE '%' || upper($1) || '%'
            ORDER BY id DESC LIMIT $2
        ) newest ORDER BY id
        "#,
        label,
        most,
    )
    .fetch_all(db)
    .await
}

/// Holds the runs (in the order given) until the transaction ends, so that one run's events
/// are applied one batch after another, each seeing the ones before.
pub async fn lock_runs(tx: &mut sqlx::PgConnection, runs: &[&str]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended(r, 7246002)) FROM unnest($1::text[]) WITH ORDINALITY AS x(r, n) ORDER BY n",
        runs as &[&str],
    )
    .fetch_all(tx)
    .await?;
    Ok(())
}

/// OpenLineage events to keep, one per entry of each column.
pub struct NewEvents<'a> {
    pub run_ids: &'a [String],
    pub event_types: &'a [String],
    pub times: &'a [DateTime<Utc>],
    pub namespaces: &'a [String],
    pub names: &'a [String],
    pub events: &'a [serde_json::Value],
}

/// Keeps the events that were not kept before (the same run, type and time); answers those it
/// kept, by run, type and time.
pub async fn keep_events(
    tx: &mut sqlx::PgConnection,
    actor: &str,
    new: &NewEvents<'_>,
) -> Result<Vec<(String, String, DateTime<Utc>)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"
        INSERT INTO lineage_events (run_id, event_type, event_time, job_namespace, job_name, event, actor)
        SELECT x.run_id, x.event_type, x.event_time, x.namespace, x.name, x.event, $7
        FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[])
             WITH ORDINALITY AS x(run_id, event_type, event_time, namespace, name, event, n)
        ORDER BY x.n
        ON CONFLICT ON CONSTRAINT lineage_events_once DO NOTHING
        RETURNING run_id, event_type, event_time
        "#,
        new.run_ids,
        new.event_types,
        new.times,
        new.namespaces,
        new.names,
        new.events,
        actor,
    )
    .fetch_all(tx)
    .await?
    .into_iter()
    .map(|r| (r.run_id, r.event_type, r.event_time))
    .collect())
}

/// Every kept event of these runs: run, type and time.
pub async fn run_events(
    tx: &mut sqlx::PgConnection,
    runs: &[&str],
) -> Result<Vec<(String, String, DateTime<Utc>)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT run_id, event_type, event_time FROM lineage_events WHERE run_id = ANY($1)",
        runs as &[&str],
    )
    .fetch_all(tx)
    .await?
    .into_iter()
    .map(|r| (r.run_id, r.event_type, r.event_time))
    .collect())
}

/// The kinds the mapping table gives to these labels of `source`.
pub async fn kinds_of(
    tx: &mut sqlx::PgConnection,
    source: &str,
    labels: &[String],
) -> Result<HashMap<String, AssetKind>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT label, kind::text AS "kind!" FROM label_mappings WHERE source = $1 AND label = ANY($2)"#,
        source,
        labels,
    )
    .fetch_all(tx)
    .await?
    .into_iter()
    .filter_map(|r| Some((r.label, AssetKind::parse(&r.kind)?)))
    .collect())
}
