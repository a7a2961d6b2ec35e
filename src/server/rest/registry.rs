//! Registry operations (editors) and API tokens (admins) over HTTP. Compiled only with `ssr`.

use axum::extract::{Path, State};
use axum::routing::{delete, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;

use crate::error::AppError;
use crate::model::admin::{CreatedToken, TokenRow};
use crate::model::metrics::Catalog;
use crate::model::registry::{Operation, Outcome};
use crate::model::role::Role;
use crate::server::auth::{Admin, Editor};
use crate::server::intake::{JsonBody, Shaped};
use std::sync::Arc;

impl Shaped for Operation {
    const SHAPE: &'static str =
        r#"{"op": "register|create_deployment|promote|deploy|rollback|retire", ...}"#;
}

impl Shaped for NewToken {
    const SHAPE: &'static str = r#"{"name": "...", "role": "viewer|editor|admin"}"#;
}
use crate::server::repo::tokens;
use crate::server::service::write::WriteService;
use crate::server::state::AppState;

/// A revoked token's name.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub name: String,
    pub revoked: bool,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/operations", post(operate))
        .route("/api/v1/tokens", post(create_token).get(list_tokens))
        .route("/api/v1/tokens/{name}", delete(revoke_token))
}

/// Runs one registry operation (editor); 200 with what it did, 409 when the move is refused.
#[utoipa::path(post, path = "/api/v1/operations", tag = "registry",
    request_body = Operation,
    responses((status = 200, description = "what the operation did", body = Outcome), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn operate(
    State(writes): State<WriteService>,
    State(catalog): State<Arc<Catalog>>,
    Editor(caller): Editor,
    JsonBody(op): JsonBody<Operation>,
) -> Result<Json<Outcome>, AppError> {
    let outcome =
        crate::server::service::registry::operate(&writes, &catalog, &caller, &op).await?;
    Ok(Json(outcome))
}

/// A token to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    role: Role,
}

/// Creates a token (admin); the answer is the only time its secret is shown.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "access",
    request_body = NewToken,
    responses((status = 201, description = "the token, shown this once", body = CreatedToken), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn create_token(
    State(state): State<AppState>,
    Admin(_): Admin,
    JsonBody(new): JsonBody<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    let token = tokens::create(&state.pool, &new.name, new.role).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            name: new.name,
            role: new.role,
            token,
        }),
    ))
}

/// Every token by name and role, revoked ones included (admin).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "access",
    responses((status = 200, description = "the tokens, never a secret", body = Vec<TokenRow>), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn list_tokens(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> Result<Json<Vec<TokenRow>>, AppError> {
    Ok(Json(tokens::list(&state.pool).await?))
}

/// Revokes the active token with this name (admin); its sessions end with it.
#[utoipa::path(delete, path = "/api/v1/tokens/{name}", tag = "access",
    params(("name" = String, Path, description = "the token's name")),
    responses((status = 200, description = "revoked", body = Revoked), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn revoke_token(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(name): Path<String>,
) -> Result<Json<Revoked>, AppError> {
    if !tokens::revoke(&state.pool, &name).await? {
        return Err(AppError::NotFound(format!(
            "no active token named {name:?}"
        )));
    }
    Ok(Json(Revoked {
        name,
        revoked: true,
    }))
}
