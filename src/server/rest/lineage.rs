//! `POST /api/v1/lineage`: OpenLineage RunEvents, as the reference server takes them (201).
//! Compiled only with `ssr`.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, StatusCode};

use crate::error::AppError;
use crate::model::record::Outcome;
use crate::model::role::Role;
use crate::server::auth::Bearer;
use crate::server::ingest::openlineage;
use crate::server::intake;
use crate::server::state::AppState;

/// Largest event taken (OpenLineage events carry schemas and facets, but not data).
const MAX_EVENT_BYTES: usize = 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/lineage",
        post(post_event).layer(DefaultBodyLimit::disable()),
    )
}

async fn post_event(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    // Who is calling comes first: nothing of the body is read for an unknown token.
    let caller = bearer.check(&state.pool, Role::Editor).await?;
    let media = crate::server::intake::media_type(&headers);
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

    // Through the group commit: concurrent events share transactions, each in a savepoint.
    let answer = state.writes.event(&caller, event, raw).await?;
    let status = if answer.results.iter().any(|r| r.status == Outcome::Rejected) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(answer)).into_response())
}
