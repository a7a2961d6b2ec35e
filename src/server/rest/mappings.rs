//! The label mapping table over HTTP (admins edit it), the quarantine it leaves, and the last
//! OpenLineage events received. Compiled only with `ssr`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::AppError;
use crate::model::ingestion::{EventRow, MappingRow, QuarantineRow, RejectionRow};
use crate::server::auth::Admin;
use crate::server::ingest::remap::{self, Remapped};
use crate::server::intake::{JsonBody, Shaped};

impl Shaped for MappingBody {
    const SHAPE: &'static str = r#"{"kind": "<asset kind>"}"#;
}
use crate::server::repo::ingestion;
use crate::server::service::write::WriteService;
use crate::server::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/mappings", get(list_mappings))
        .route(
            "/api/v1/mappings/{source}/{label}",
            axum::routing::put(put_mapping).delete(delete_mapping),
        )
        .route("/api/v1/quarantine", get(list_quarantine))
        .route("/api/v1/rejections", get(list_rejections))
        .route("/api/v1/lineage/events", get(list_events))
}

/// Every mapping, and every label waiting in quarantine without one (kind empty).
#[utoipa::path(get, path = "/api/v1/mappings", tag = "ingestion",
    responses((status = 200, description = "the mappings", body = Vec<MappingRow>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn list_mappings(State(state): State<AppState>) -> Result<Json<Vec<MappingRow>>, AppError> {
    Ok(Json(ingestion::mappings(&state.pool).await?))
}

/// The kind a label maps to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingBody {
    kind: String,
}

/// Sets a mapping (admin) and applies the quarantined records it covers.
#[utoipa::path(put, path = "/api/v1/mappings/{source}/{label}", tag = "ingestion",
    params(("source" = String, Path, description = "the tool's source system"),
        ("label" = String, Path, description = "the tool's label")),
    request_body = MappingBody,
    responses((status = 200, description = "the mapping and what it applied", body = Remapped), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn put_mapping(
    State(writes): State<WriteService>,
    Admin(caller): Admin,
    Path((source, label)): Path<(String, String)>,
    JsonBody(body): JsonBody<MappingBody>,
) -> Result<Json<Remapped>, AppError> {
    let remapped = remap::put(&writes, &caller, &source, &label, &body.kind).await?;
    Ok(Json(remapped))
}

/// Removes a mapping (admin); assets already written keep their kind.
#[utoipa::path(delete, path = "/api/v1/mappings/{source}/{label}", tag = "ingestion",
    params(("source" = String, Path, description = "the tool's source system"),
        ("label" = String, Path, description = "the tool's label")),
    responses((status = 200, description = "removed", body = Removed), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn delete_mapping(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path((source, label)): Path<(String, String)>,
) -> Result<Json<Removed>, AppError> {
    remap::remove(&state.pool, &source, &label).await?;
    Ok(Json(Removed {
        source,
        label,
        removed: true,
    }))
}

/// A removed mapping.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Removed {
    pub source: String,
    pub label: String,
    pub removed: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    source: Option<String>,
    limit: Option<i64>,
}

fn limit(value: Option<i64>) -> Result<i64, AppError> {
    let limit = value.unwrap_or(100);
    if (1..=1000).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::BadRequest(format!(
            "limit must be 1-1000, not {limit}"
        )))
    }
}

/// The records waiting for a mapping, newest first.
#[utoipa::path(get, path = "/api/v1/quarantine", tag = "ingestion",
    params(("source" = Option<String>, Query, description = "only this source system"), ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "rows (default 100)")),
    responses((status = 200, description = "the records waiting for a mapping, newest first", body = Vec<QuarantineRow>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn list_quarantine(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<QuarantineRow>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let rows =
        ingestion::quarantine(&state.pool, query.source.as_deref(), limit(query.limit)?).await?;
    Ok(Json(rows))
}

/// The records the graph refused last, with the reason, newest first.
#[utoipa::path(get, path = "/api/v1/rejections", tag = "ingestion",
    params(("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "rows (default 100)")),
    responses((status = 200, description = "what the graph refused last, newest first", body = Vec<RejectionRow>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn list_rejections(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<RejectionRow>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    if query.source.is_some() {
        return Err(AppError::BadRequest("rejections take only limit".into()));
    }
    Ok(Json(
        ingestion::rejections(&state.pool, limit(query.limit)?).await?,
    ))
}

/// The OpenLineage events received last, newest first.
#[utoipa::path(get, path = "/api/v1/lineage/events", tag = "ingestion",
    params(("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "rows (default 100)")),
    responses((status = 200, description = "the OpenLineage events received last, newest first", body = Vec<EventRow>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn list_events(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<EventRow>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    if query.source.is_some() {
        return Err(AppError::BadRequest(
            "lineage events take only limit".into(),
        ));
    }
    Ok(Json(
        ingestion::events(&state.pool, limit(query.limit)?).await?,
    ))
}
