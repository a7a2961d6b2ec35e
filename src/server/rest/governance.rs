//! Exemptions and promotion gates over HTTP: editors ask for exemptions, admins approve, renew
//! and revoke them; anyone who reads sees them and whether a model source would pass each gate.
//! A thin translator onto `service::governance`. Compiled only with `ssr`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;
use sqlx::PgPool;

use crate::error::AppError;
use crate::model::governance::{Exemption, ExemptionStatus, GateCheck, NewExemption, Renewal};
use crate::model::metrics::Catalog;
use crate::model::record::Ref;
use crate::server::auth::{Admin, Caller, Editor};
use crate::server::intake::{JsonBody, Shaped};
use crate::server::service::governance::{self, Decision};
use crate::server::service::write::WriteService;
use crate::server::state::AppState;

impl Shaped for NewExemption {
    const SHAPE: &'static str = r#"{"model": {"source": "...", "id": "..."}, "scope": "domain:<id>|metric:<id>", "reason": "...", "expires_at": "2027-03-31"}"#;
}

impl Shaped for Renewal {
    const SHAPE: &'static str = r#"{"expires_at": "2027-03-31"}"#;
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/exemptions",
            post(post_exemption).get(get_exemptions),
        )
        .route("/api/v1/exemptions/{id}", get(get_exemption))
        .route("/api/v1/exemptions/{id}/approve", post(approve))
        .route("/api/v1/exemptions/{id}/renew", post(renew))
        .route("/api/v1/exemptions/{id}/revoke", post(revoke))
        .route("/api/v1/models/{source}/{id}/gates", get(get_gates))
}

/// Reads an id from the address (`what` names it): 400 when it is not a positive number.
pub(super) fn path_id(what: &str, text: &str) -> Result<i64, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            let shown: String = text.chars().take(40).collect();
            AppError::BadRequest(format!(
                "the {what} id {shown:?} is not a positive whole number"
            ))
        })
}

fn exemption_id(text: &str) -> Result<i64, AppError> {
    path_id("exemption", text)
}

/// Asks for an exemption (editor); an admin's request is approved at once.
#[utoipa::path(post, path = "/api/v1/exemptions", tag = "governance",
    request_body = NewExemption,
    responses((status = 201, description = "the exemption, requested (or active, asked by an admin)", body = Exemption), (status = "4XX", description = "the caller's mistake, named; 409 when one for this model and scope is open", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn post_exemption(
    State(writes): State<WriteService>,
    State(catalog): State<Arc<Catalog>>,
    Editor(caller): Editor,
    JsonBody(new): JsonBody<NewExemption>,
) -> Result<(StatusCode, Json<Exemption>), AppError> {
    let exemption = governance::request(&writes, &catalog, &caller, &new).await?;
    Ok((StatusCode::CREATED, Json(exemption)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// The model source's source system (with `model_id`).
    model_source: Option<String>,
    /// The model source's external id (with `model_source`).
    model_id: Option<String>,
    /// `requested`, `active`, `expired` or `revoked`.
    status: Option<String>,
}

/// Exemptions, newest first (at most 500): of one model source or all, in one status or any.
#[utoipa::path(get, path = "/api/v1/exemptions", tag = "governance",
    params(ListQuery),
    responses((status = 200, description = "the exemptions", body = Vec<Exemption>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_exemptions(
    State(pool): State<PgPool>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Exemption>>, AppError> {
    let model = match (query.model_source, query.model_id) {
        (Some(source), Some(id)) => Some(Ref { source, id }),
        (None, None) => None,
        _ => {
            return Err(AppError::BadRequest(
                "model_source and model_id name a model source together: give both or neither"
                    .into(),
            ));
        }
    };
    let status = query
        .status
        .as_deref()
        .map(|s| {
            ExemptionStatus::parse(s).ok_or_else(|| {
                let shown: String = s.chars().take(40).collect();
                AppError::BadRequest(format!(
                    "status {shown:?} is not one of requested, active, expired, revoked"
                ))
            })
        })
        .transpose()?;
    Ok(Json(governance::list(&pool, model.as_ref(), status).await?))
}

/// One exemption.
#[utoipa::path(get, path = "/api/v1/exemptions/{id}", tag = "governance",
    params(("id" = i64, Path, description = "the exemption's id")),
    responses((status = 200, description = "the exemption", body = Exemption), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_exemption(
    State(pool): State<PgPool>,
    Path(id): Path<String>,
) -> Result<Json<Exemption>, AppError> {
    let id = exemption_id(&id)?;
    Ok(Json(governance::one(&pool, id).await?))
}

/// Approves a requested exemption (admin): it applies from now until its expiry.
#[utoipa::path(post, path = "/api/v1/exemptions/{id}/approve", tag = "governance",
    params(("id" = i64, Path, description = "the exemption's id")),
    responses((status = 200, description = "the exemption, active", body = Exemption), (status = "4XX", description = "the caller's mistake, named; 409 when it is not a request", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn approve(
    State(writes): State<WriteService>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Json<Exemption>, AppError> {
    decided(&writes, &caller, &id, |_| Ok(Decision::Approve)).await
}

/// Runs an admin's decision on the exemption whose id is `id` in the address.
async fn decided(
    writes: &WriteService,
    caller: &Caller,
    id: &str,
    decision: impl FnOnce(i64) -> Result<Decision, AppError>,
) -> Result<Json<Exemption>, AppError> {
    let id = exemption_id(id)?;
    let decision = decision(id)?;
    Ok(Json(
        governance::decide(writes, caller, id, decision).await?,
    ))
}

/// Gives an exemption a new expiry (admin); an expired one applies again.
#[utoipa::path(post, path = "/api/v1/exemptions/{id}/renew", tag = "governance",
    params(("id" = i64, Path, description = "the exemption's id")),
    request_body = Renewal,
    responses((status = 200, description = "the exemption, with its new expiry", body = Exemption), (status = "4XX", description = "the caller's mistake, named; 409 when it is revoked", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn renew(
    State(writes): State<WriteService>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    JsonBody(renewal): JsonBody<Renewal>,
) -> Result<Json<Exemption>, AppError> {
    decided(&writes, &caller, &id, |_| {
        governance::expiry(&renewal.expires_at, chrono::Utc::now()).map(Decision::Renew)
    })
    .await
}

/// Revokes an exemption (admin): it stops applying at the next recompute.
#[utoipa::path(post, path = "/api/v1/exemptions/{id}/revoke", tag = "governance",
    params(("id" = i64, Path, description = "the exemption's id")),
    responses((status = 200, description = "the exemption, revoked", body = Exemption), (status = "4XX", description = "the caller's mistake, named; 409 when it is revoked already", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn revoke(
    State(writes): State<WriteService>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Json<Exemption>, AppError> {
    decided(&writes, &caller, &id, |_| Ok(Decision::Revoke)).await
}

/// Whether a model source would pass each of the catalog's promotion gates now, naming every
/// unmet requirement with its level and the ones an exemption covers.
#[utoipa::path(get, path = "/api/v1/models/{source}/{id}/gates", tag = "governance",
    params(("source" = String, Path, description = "the record's source system"),
        ("id" = String, Path, description = "its external id (a `/` in it written `%2F`)")),
    responses((status = 200, description = "one check per gated status (none when the catalog declares no gate)", body = Vec<GateCheck>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_gates(
    State(pool): State<PgPool>,
    State(catalog): State<Arc<Catalog>>,
    Path((source, id)): Path<(String, String)>,
) -> Result<Json<Vec<GateCheck>>, AppError> {
    Ok(Json(
        governance::gates_of(&pool, &catalog, &Ref { source, id }).await?,
    ))
}
