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
use crate::model::params;
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

/// What a recompute wrote.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Recomputed {
    pub snapshot: i64,
    pub computed_at: String,
    pub models: i64,
    pub duration_ms: u64,
}

#[derive(Debug, Default, Deserialize)]
struct ReadQuery {
    as_of: Option<String>,
    scope: Option<String>,
    days: Option<String>,
}

/// Reads `as_of` (see [`params::as_of`]); 400 naming the value when it is not a time.
fn as_of(value: Option<&str>) -> Result<Option<DateTime<Utc>>, AppError> {
    params::as_of(value).map_err(AppError::BadRequest)
}

/// The metric catalog in use.
#[utoipa::path(get, path = "/api/v1/catalog", tag = "metrics",
    responses((status = 200, description = "domains, metrics, thresholds, weights, rules and version", body = crate::model::metrics::Catalog)))]
async fn get_catalog(State(state): State<AppState>) -> Response {
    Json(state.catalog.as_ref()).into_response()
}

/// Every model's level (or every unit's rollup) per scope, as NDJSON or CSV.
#[utoipa::path(get, path = "/api/v1/export/{file}", tag = "metrics",
    params(("file" = String, Path, description = "levels.ndjson, levels.csv, rollups.ndjson or rollups.csv"), ("as_of" = Option<String>, Query, description = "answer from the newest snapshot computed by this RFC 3339 time")),
    responses((status = 200, description = "the rows", content((String = "application/x-ndjson"), (String = "text/csv"))), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
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

/// The company's scorecard: every scope's rollup.
#[utoipa::path(get, path = "/api/v1/scorecard", tag = "metrics",
    params(("as_of" = Option<String>, Query, description = "answer from the newest snapshot computed by this RFC 3339 time")),
    responses((status = 200, description = "the company's rollups", body = crate::model::metrics::Scorecard), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_company_scorecard(
    State(state): State<AppState>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, AppError> {
    let snapshot = reads::snapshot(&state.pool, as_of(query.as_of.as_deref())?).await?;
    let unit = reads::unit(&state.pool, None).await?;
    Ok(Json(reads::scorecard(&state.pool, &snapshot, unit).await?).into_response())
}

/// An org unit's scorecard: every scope's rollup.
#[utoipa::path(get, path = "/api/v1/units/{source}/{id}/scorecard", tag = "metrics",
    params(("source" = String, Path, description = "the record's source system"),
        ("id" = String, Path, description = "its external id (a `/` in it written `%2F`)"), ("as_of" = Option<String>, Query, description = "answer from the newest snapshot computed by this RFC 3339 time")),
    responses((status = 200, description = "the unit's rollups", body = crate::model::metrics::Scorecard), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_scorecard(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, AppError> {
    let snapshot = reads::snapshot(&state.pool, as_of(query.as_of.as_deref())?).await?;
    let unit = reads::unit(&state.pool, Some(&Ref { source, id })).await?;
    Ok(Json(reads::scorecard(&state.pool, &snapshot, unit).await?).into_response())
}

/// The units directly below an org unit in one scope, the lowest score first.
#[utoipa::path(get, path = "/api/v1/units/{source}/{id}/children", tag = "metrics",
    params(("source" = String, Path, description = "the record's source system"),
        ("id" = String, Path, description = "its external id (a `/` in it written `%2F`)"), ("as_of" = Option<String>, Query, description = "answer from the newest snapshot computed by this RFC 3339 time"), ("scope" = Option<String>, Query, description = "overall (the default), domain:<id> or metric:<id>")),
    responses((status = 200, description = "the child units' rollups", body = Vec<crate::model::metrics::ChildRollup>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
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

/// An org unit's score in one scope over the last days.
#[utoipa::path(get, path = "/api/v1/units/{source}/{id}/trend", tag = "metrics",
    params(("source" = String, Path, description = "the record's source system"),
        ("id" = String, Path, description = "its external id (a `/` in it written `%2F`)"), ("as_of" = Option<String>, Query, description = "the window's end, RFC 3339 (default now)"),
        ("scope" = Option<String>, Query, description = "overall (the default), domain:<id> or metric:<id>"),
        ("days" = Option<i64>, Query, description = "the window: 7, 30 (the default), 90 or 365")),
    responses((status = 200, description = "one point per snapshot", body = Vec<crate::model::metrics::TrendPoint>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_trend(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, AppError> {
    let until = as_of(query.as_of.as_deref())?.unwrap_or_else(Utc::now);
    let days = params::trend_days(params::whole(query.days.as_deref()), query.days.as_deref())
        .map_err(AppError::BadRequest)?;
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

/// A model source's level in every scope, with evidence and what would lift it.
#[utoipa::path(get, path = "/api/v1/models/{source}/{id}/metrics", tag = "metrics",
    params(("source" = String, Path, description = "the record's source system"),
        ("id" = String, Path, description = "its external id (a `/` in it written `%2F`)"), ("as_of" = Option<String>, Query, description = "answer from the newest snapshot computed by this RFC 3339 time")),
    responses((status = 200, description = "the model's results", body = crate::model::metrics::ModelMetrics), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
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
#[utoipa::path(post, path = "/api/v1/recompute", tag = "metrics",
    responses((status = 200, description = "the new snapshot", body = Recomputed), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn post_recompute(
    State(state): State<AppState>,
    Editor(_): Editor,
) -> Result<Response, AppError> {
    let done = metrics::recompute(&state.pool, &state.catalog).await?;
    Ok(Json(Recomputed {
        snapshot: done.snapshot_id,
        computed_at: reads::rfc3339(done.computed_at),
        models: done.models,
        duration_ms: u64::try_from(done.duration.as_millis()).unwrap_or(u64::MAX),
    })
    .into_response())
}
