//! The metrics' HTTP API: the catalog, exports, scorecards, children, a model's metrics, trends
//! and recomputing on demand. Reads take `as_of` (RFC 3339) to answer from a past snapshot.
//! Compiled only with `ssr`.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use http::header;
use serde::Deserialize;

use crate::error::AppError;
use crate::model::record::Ref;
use crate::server::auth::Editor;
use crate::server::metrics::export::{self, Format};
use crate::server::metrics::{self as metrics, reads};
use crate::server::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/catalog", get(get_catalog))
        .route("/api/v1/export/{file}", get(get_export))
        .route("/api/v1/scorecard", get(get_company_scorecard))
        .route("/api/v1/units/{source}/{id}/scorecard", get(get_scorecard))
        .route("/api/v1/units/{source}/{id}/children", get(get_children))
        .route("/api/v1/units/{source}/{id}/trend", get(get_trend))
        .route(
            "/api/v1/models/{source}/{id}/metrics",
            get(get_model_metrics),
        )
        .route("/api/v1/recompute", post(post_recompute))
}

#[derive(Debug, Default, Deserialize)]
struct ReadQuery {
    as_of: Option<String>,
    scope: Option<String>,
    days: Option<String>,
}

/// Reads `as_of`; 400 naming the value when it is not an RFC 3339 time.
pub fn as_of(value: Option<&str>) -> Result<Option<DateTime<Utc>>, AppError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    AppError::BadRequest(format!("as_of {v:?} is not an RFC 3339 time: {e}"))
                })
        })
        .transpose()
}

async fn get_catalog(State(state): State<AppState>) -> Response {
    Json(state.catalog.as_ref()).into_response()
}

async fn get_export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, AppError> {
    let (what, format) = match file.as_str() {
        "levels.ndjson" => ("levels", Format::Ndjson),
        "levels.csv" => ("levels", Format::Csv),
        "rollups.ndjson" => ("rollups", Format::Ndjson),
        "rollups.csv" => ("rollups", Format::Csv),
        other => {
            return Err(AppError::NotFound(format!(
                "no export {other:?}; there are levels.ndjson, levels.csv, rollups.ndjson and rollups.csv"
            )));
        }
    };
    let snapshot = reads::snapshot(&state.pool, as_of(query.as_of.as_deref())?).await?;
    let content_type = match format {
        Format::Ndjson => "application/x-ndjson",
        Format::Csv => "text/csv; charset=utf-8",
    };
    let disposition = format!(
        "attachment; filename=\"modelgov-{what}-{}.{}\"",
        snapshot.meta.id,
        if format == Format::Csv {
            "csv"
        } else {
            "ndjson"
        }
    );
    let body = if what == "levels" {
        export::levels(state.pool.clone(), snapshot, format)
    } else {
        export::rollups(state.pool.clone(), snapshot, format)
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

async fn get_company_scorecard(
    State(state): State<AppState>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, AppError> {
    let snapshot = reads::snapshot(&state.pool, as_of(query.as_of.as_deref())?).await?;
    let unit = reads::unit(&state.pool, None).await?;
    Ok(Json(reads::scorecard(&state.pool, &snapshot, unit).await?).into_response())
}

async fn get_scorecard(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, AppError> {
    let snapshot = reads::snapshot(&state.pool, as_of(query.as_of.as_deref())?).await?;
    let unit = reads::unit(&state.pool, Some(&Ref { source, id })).await?;
    Ok(Json(reads::scorecard(&state.pool, &snapshot, unit).await?).into_response())
}

async fn get_children(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, AppError> {
    let snapshot = reads::snapshot(&state.pool, as_of(query.as_of.as_deref())?).await?;
    let scope = query.scope.unwrap_or_else(|| "overall".into());
    snapshot.catalog.check_scope(&scope)?;
    let unit = reads::unit(&state.pool, Some(&Ref { source, id })).await?;
    Ok(Json(reads::children(&state.pool, &snapshot, unit.id, &scope).await?).into_response())
}

async fn get_trend(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, AppError> {
    let until = as_of(query.as_of.as_deref())?.unwrap_or_else(Utc::now);
    let days = match query.days.as_deref() {
        None => 90,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| AppError::BadRequest(format!("days must be 1-3650, not {v:?}")))?,
    };
    let scope = query.scope.unwrap_or_else(|| "overall".into());
    state.catalog.check_scope(&scope)?;
    let unit = reads::unit(&state.pool, Some(&Ref { source, id })).await?;
    let points = reads::trend(
        &state.pool,
        unit.id,
        &scope,
        until - Duration::days(days),
        until,
    )
    .await?;
    Ok(Json(points).into_response())
}

async fn get_model_metrics(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, AppError> {
    let snapshot = reads::snapshot(&state.pool, as_of(query.as_of.as_deref())?).await?;
    Ok(
        Json(reads::model_metrics(&state.pool, &snapshot, &Ref { source, id }).await?)
            .into_response(),
    )
}

/// Recomputes now (editor role) and answers with the new snapshot.
async fn post_recompute(
    State(state): State<AppState>,
    Editor(_): Editor,
) -> Result<Response, AppError> {
    let done = metrics::recompute(&state.pool, &state.catalog).await?;
    Ok(Json(serde_json::json!({
        "snapshot": done.snapshot_id,
        "computed_at": reads::rfc3339(done.computed_at),
        "models": done.models,
        "duration_ms": done.duration.as_millis(),
    }))
    .into_response())
}
