//! `POST /api/v1/lineage`: OpenLineage RunEvents, as the reference server takes them (201).
//! Compiled only with `ssr`.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, StatusCode};
use serde::Serialize;

use crate::error::AppError;
use crate::model::record::{AssetKind, Outcome, RecordResult};
use crate::model::role::Role;
use crate::server::auth::Bearer;
use crate::server::ingest::apply;
use crate::server::ingest::openlineage::{self, RunState, SOURCE};
use crate::server::ingest::parse::Item;
use crate::server::intake;
use crate::server::state::AppState;

/// Largest event taken (OpenLineage events carry schemas and facets, but not data).
const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Times an event is applied again after a concurrent writer got in its way.
const ATTEMPTS: usize = 4;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/lineage",
        post(post_event).layer(DefaultBodyLimit::disable()),
    )
}

#[derive(Debug, Serialize)]
pub struct EventAnswer {
    pub run: crate::model::record::Ref,
    /// False when this exact event (run, type, time) had been received before.
    pub new_event: bool,
    pub results: Vec<RecordResult>,
}

async fn post_event(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    // Who is calling comes first: nothing of the body is read for an unknown token.
    let caller = bearer.check(&state.pool, Role::Editor).await?;
    let media = super::media_type(&headers);
    if media != "application/json" {
        return Err(AppError::UnsupportedMediaType(format!(
            "send an OpenLineage event as application/json, not {media:?}"
        )));
    }
    let body = intake::read(&state.intake, &headers, body, MAX_EVENT_BYTES, "the event").await?;
    let raw: serde_json::Value = serde_json::from_slice(&body.bytes)
        .map_err(|e| AppError::BadRequest(format!("the body is not JSON: {e}")))?;
    // Events are kept whole, and Postgres stores no NUL character in jsonb.
    if let Some(path) = crate::model::text::find_nul(&raw) {
        return Err(AppError::BadRequest(format!(
            "{path} must not contain the NUL character"
        )));
    }
    let event: openlineage::RunEvent = serde_json::from_value(raw.clone())
        .map_err(|e| AppError::BadRequest(format!("not an OpenLineage RunEvent: {e}")))?;
    let event = openlineage::check(event).map_err(AppError::BadRequest)?;

    for _ in 0..ATTEMPTS {
        let mut tx = state.pool.begin().await?;
        match apply_event(&mut tx, &caller.actor(), &event, &raw).await {
            Ok(answer) if answer.results.iter().any(|r| r.status == Outcome::Rejected) => {
                tx.rollback().await?;
                // Nothing of the event is kept, but the refusal is, for the ingestion page.
                let reasons: Vec<String> = answer
                    .results
                    .iter()
                    .filter_map(|r| r.error.clone())
                    .collect();
                let mut log = state.pool.begin().await?;
                crate::server::repo::graph::set_actor(&mut log, &caller.actor()).await?;
                crate::server::repo::graph::write_rejections(
                    &mut log,
                    &[(
                        SOURCE.to_string(),
                        answer.run.id.clone(),
                        Some(raw.clone()),
                        reasons.join("; "),
                    )],
                )
                .await?;
                log.commit().await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::Json(answer)).into_response());
            }
            Ok(answer) => {
                tx.commit().await?;
                state.recomputer.request();
                return Ok((StatusCode::CREATED, axum::Json(answer)).into_response());
            }
            Err(error) if apply::is_race(&error) => {
                tracing::info!(%error, "a concurrent write got in the way; applying the event again");
                tx.rollback().await?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(AppError::Conflict(
        "concurrent writes to the same assets kept getting in the way; send the event again".into(),
    ))
}

/// Keeps the event, folds all of its run's events into the run's state, and writes the records.
pub async fn apply_event(
    tx: &mut sqlx::PgConnection,
    actor: &str,
    event: &openlineage::Checked,
    raw: &serde_json::Value,
) -> Result<EventAnswer, sqlx::Error> {
    // One run's events one at a time, so that each sees the ones before it.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 7246002))",
        event.run_id
    )
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query!(
        r#"
        INSERT INTO lineage_events (run_id, event_type, event_time, job_namespace, job_name, event, actor)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT ON CONSTRAINT lineage_events_once DO NOTHING
        "#,
        event.run_id,
        event.event_type,
        event.time,
        event.job.namespace,
        event.job.name,
        raw,
        actor,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let seen = sqlx::query!(
        "SELECT event_type, event_time FROM lineage_events WHERE run_id = $1",
        event.run_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let run_state = RunState::of(seen.iter().map(|e| (e.event_type.as_str(), e.event_time)));

    let labels: Vec<String> = std::iter::once(openlineage::job_label(&event.job))
        .chain(
            event
                .inputs
                .iter()
                .map(|d| openlineage::dataset_label(d, false)),
        )
        .chain(
            event
                .outputs
                .iter()
                .map(|d| openlineage::dataset_label(d, true)),
        )
        .collect();
    let kinds: HashMap<String, AssetKind> = sqlx::query!(
        r#"SELECT label, kind::text AS "kind!" FROM label_mappings WHERE source = $1 AND label = ANY($2)"#,
        SOURCE,
        &labels,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .filter_map(|r| Some((r.label, AssetKind::parse(&r.kind)?)))
    .collect();
    let items = Item::numbered(openlineage::records(event, &run_state, &kinds));
    let results = apply::apply_in(tx, actor, &items).await?;
    Ok(EventAnswer {
        run: openlineage::run_key(&event.run_id),
        new_event: inserted > 0,
        results,
    })
}
