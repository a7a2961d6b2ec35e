//! The label mapping table, edited: adding a mapping applies the quarantined records it covers,
//! and, for OpenLineage, replays the kept events that carry the label, so that the edges those
//! records could not get while they waited appear too (replays change nothing else). Compiled
//! only with `ssr`.

use serde::Serialize;
use sqlx::PgConnection;

use crate::error::AppError;
use crate::model::record::{AssetKind, Outcome, Record, RecordResult, check_key_part};
use crate::model::role::Role;
use crate::server::auth::Caller;
use crate::server::ingest::apply;
use crate::server::ingest::openlineage;
use crate::server::ingest::parse::{Item, Place};
use crate::server::repo::ingestion;
use crate::server::service::write::WriteService;

/// Most OpenLineage events one new mapping replays (the newest first); past it, the next events
/// of those runs bring the edges.
const REPLAYED_EVENTS: i64 = 10_000;

/// What adding a mapping did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Remapped {
    pub source: String,
    pub label: String,
    pub kind: AssetKind,
    /// The quarantined records it applied, per record.
    pub applied: Vec<RecordResult>,
    /// Records still in quarantine under this label (rejected when applied, with the reason).
    pub still_quarantined: i64,
    /// OpenLineage events replayed for their edges.
    pub replayed_events: i64,
}

/// Checks and sets `(source, label) -> kind` (an asset kind's name) for `caller` (an admin),
/// through the write service: what an admin's edit does, from the API or the dashboard.
pub async fn put(
    writes: &WriteService,
    caller: &Caller,
    source: &str,
    label: &str,
    kind: &str,
) -> Result<Remapped, AppError> {
    check_key_part("source", source).map_err(AppError::BadRequest)?;
    check_key_part("label", label).map_err(AppError::BadRequest)?;
    let kind = AssetKind::parse(kind).ok_or_else(|| {
        AppError::BadRequest(format!(
            "kind {kind:?} is not one of {}",
            AssetKind::ALL.map(AssetKind::as_str).join(", ")
        ))
    })?;
    let actor = caller.actor();
    writes
        .run(caller, Role::Admin, |conn| {
            let (actor, source, label) = (actor.clone(), source.to_string(), label.to_string());
            Box::pin(async move {
                Ok::<_, AppError>(set_mapping(conn, &actor, &source, &label, kind).await?)
            })
        })
        .await
}

/// Removes a mapping; assets already written keep their kind.
pub async fn remove(pool: &sqlx::PgPool, source: &str, label: &str) -> Result<(), AppError> {
    let removed = ingestion::delete_mapping(pool, source, label).await?;
    if !removed {
        return Err(AppError::NotFound(format!(
            "no mapping for {source} label {label:?}"
        )));
    }
    Ok(())
}

/// Sets `(source, label) -> kind` and applies what it covers, as `actor`, in `tx`.
pub async fn set_mapping(
    tx: &mut PgConnection,
    actor: &str,
    source: &str,
    label: &str,
    kind: AssetKind,
) -> Result<Remapped, sqlx::Error> {
    // OpenLineage's labels (facet values) are read in upper case.
    let label = if source == openlineage::SOURCE {
        label.to_ascii_uppercase()
    } else {
        label.to_string()
    };
    let label = label.as_str();
    ingestion::upsert_mapping(&mut *tx, source, label, kind).await?;
    let waiting = ingestion::waiting(&mut *tx, source, label).await?;
    let items: Vec<Item> = waiting
        .iter()
        .zip(0..)
        .map(|(row, i)| Item {
            place: Place::Index(i),
            record: serde_json::from_value::<Record>(row.record.clone())
                .map_err(|e| format!("the quarantined record could not be read: {e}")),
        })
        .collect();
    let applied = if items.is_empty() {
        Vec::new()
    } else {
        apply::apply_in(&mut *tx, actor, &items).await?
    };
    let done: Vec<String> = waiting
        .iter()
        .zip(&applied)
        .filter(|(_, r)| {
            matches!(
                r.status,
                Outcome::Created | Outcome::Updated | Outcome::Unchanged
            )
        })
        .map(|(row, _)| row.external_id.clone())
        .collect();
    ingestion::release(&mut *tx, source, &done).await?;
    let still_quarantined = ingestion::still_waiting(&mut *tx, source, label).await?;
    let mut replayed_events = 0;
    if source == openlineage::SOURCE {
        let events = ingestion::events_naming(&mut *tx, label, REPLAYED_EVENTS).await?;
        for raw in events {
            let Ok(event) = serde_json::from_value::<openlineage::RunEvent>(raw.clone()) else {
                continue;
            };
            let Ok(event) = openlineage::check(event) else {
                continue;
            };
            // Each event in a savepoint: one the graph refuses leaves nothing behind.
            let mut one = sqlx::Connection::begin(&mut *tx).await?;
            let answer = openlineage::apply_event(&mut one, actor, &event, &raw).await?;
            if answer.results.iter().any(|r| r.status == Outcome::Rejected) {
                one.rollback().await?;
            } else {
                one.commit().await?;
                replayed_events += 1;
            }
        }
    }
    Ok(Remapped {
        source: source.to_string(),
        label: label.to_string(),
        kind,
        applied,
        still_quarantined,
        replayed_events,
    })
}
