//! Campaigns over HTTP: editors create and close them; anyone who reads sees their progress,
//! burn-down, projection and the models still short. A thin translator onto
//! `service::campaigns`. Compiled only with `ssr`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;
use sqlx::PgPool;

use super::governance::path_id;
use crate::error::AppError;
use crate::model::campaign::{Campaign, CampaignPage, NewCampaign};
use crate::model::metrics::Catalog;
use crate::model::params;
use crate::server::auth::Editor;
use crate::server::intake::{JsonBody, Shaped};
use crate::server::service::campaigns;
use crate::server::service::write::WriteService;
use crate::server::state::AppState;

impl Shaped for NewCampaign {
    const SHAPE: &'static str = r#"{"name": "...", "scope": "domain:fairness", "min_level": 2, "units": [{"source": "...", "id": "..."}], "tags": {"tier": "1"}, "deployment_status": "production", "starts_at": "2026-12-01", "deadline": "2027-03-31", "owner": "..."}"#;
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/campaigns", post(post_campaign).get(get_campaigns))
        .route("/api/v1/campaigns/{id}", get(get_campaign))
        .route("/api/v1/campaigns/{id}/close", post(close))
}

/// Creates a campaign (editor); its burn-down is filled in from the snapshots since its start.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "governance",
    request_body = NewCampaign,
    responses((status = 201, description = "the campaign", body = Campaign), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn post_campaign(
    State(writes): State<WriteService>,
    State(catalog): State<Arc<Catalog>>,
    Editor(caller): Editor,
    JsonBody(new): JsonBody<NewCampaign>,
) -> Result<(StatusCode, Json<Campaign>), AppError> {
    let campaign = campaigns::create(&writes, &catalog, &caller, &new).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

/// Every campaign, open ones first, by deadline.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "governance",
    responses((status = 200, description = "the campaigns", body = Vec<Campaign>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_campaigns(State(pool): State<PgPool>) -> Result<Json<Vec<Campaign>>, AppError> {
    Ok(Json(campaigns::list(&pool).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AsOf {
    /// Answer from the newest snapshot computed by this RFC 3339 time.
    as_of: Option<String>,
}

/// A campaign's progress (overall and by unit), burn-down, pace, projected date and the models
/// still short with what would lift each.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "governance",
    params(("id" = i64, Path, description = "the campaign's id"), AsOf),
    responses((status = 200, description = "the campaign's page", body = CampaignPage), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_campaign(
    State(pool): State<PgPool>,
    Path(id): Path<String>,
    Query(query): Query<AsOf>,
) -> Result<Json<CampaignPage>, AppError> {
    let id = path_id("campaign", &id)?;
    let as_of = params::as_of(query.as_of.as_deref()).map_err(AppError::BadRequest)?;
    Ok(Json(campaigns::page(&pool, id, as_of).await?))
}

/// Closes a campaign (editor): it keeps its figures as they are now.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/close", tag = "governance",
    params(("id" = i64, Path, description = "the campaign's id")),
    responses((status = 200, description = "the campaign, closed", body = Campaign), (status = "4XX", description = "the caller's mistake, named; 409 when it is closed already", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn close(
    State(writes): State<WriteService>,
    Editor(caller): Editor,
    Path(id): Path<String>,
) -> Result<Json<Campaign>, AppError> {
    let id = path_id("campaign", &id)?;
    Ok(Json(campaigns::close(&writes, &caller, id).await?))
}
