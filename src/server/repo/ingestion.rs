//! Reads of the ingestion view: mappings, quarantine, last OpenLineage events. Compiled only
//! with `ssr`.

use sqlx::PgExecutor;

use crate::error::AppError;
use crate::model::ingestion::{
    EventRow, MappingRow, QuarantineRow, RECENT_CHANGES, RejectionRow, SourceActivity,
};
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
