//! Registry operations (editors) and API tokens (admins) over HTTP. Compiled only with `ssr`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::routing::{delete, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;

use crate::error::AppError;
use crate::model::admin::TokenRow;
use crate::model::registry::{Operation, Outcome};
use crate::model::role::Role;
use crate::server::auth::{Admin, Editor};
use crate::server::repo::tokens;
use crate::server::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/operations", post(operate))
        .route("/api/v1/tokens", post(create_token).get(list_tokens))
        .route("/api/v1/tokens/{name}", delete(revoke_token))
}

/// Reads a JSON body, naming what is wrong with it.
fn body<T>(body: Result<Json<T>, JsonRejection>, shape: &str) -> Result<T, AppError> {
    body.map(|Json(value)| value).map_err(|e| match e {
        JsonRejection::BytesRejection(_) => {
            AppError::PayloadTooLarge(format!("the body is too large: {}", e.body_text()))
        }
        JsonRejection::MissingJsonContentType(_) => {
            AppError::UnsupportedMediaType("send Content-Type: application/json".into())
        }
        _ => AppError::BadRequest(format!("send {shape}: {}", e.body_text())),
    })
}

/// Runs one registry operation (editor); 200 with what it did, 409 when the move is refused.
async fn operate(
    State(state): State<AppState>,
    Editor(caller): Editor,
    op: Result<Json<Operation>, JsonRejection>,
) -> Result<Json<Outcome>, AppError> {
    let op = body(
        op,
        r#"{"op": "register|create_deployment|promote|deploy|rollback|retire", ...}"#,
    )?;
    let outcome = crate::server::registry::apply(&state.pool, &caller.actor(), &op).await?;
    state.recomputer.request();
    Ok(Json(outcome))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    role: Role,
}

/// Creates a token (admin); the answer is the only time its secret is shown.
async fn create_token(
    State(state): State<AppState>,
    Admin(_): Admin,
    new: Result<Json<NewToken>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let new = body(new, r#"{"name": "...", "role": "viewer|editor|admin"}"#)?;
    let token = tokens::create(&state.pool, &new.name, new.role).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "name": new.name, "role": new.role, "token": token })),
    ))
}

/// Every token by name and role, revoked ones included (admin).
async fn list_tokens(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> Result<Json<Vec<TokenRow>>, AppError> {
    Ok(Json(tokens::list(&state.pool).await?))
}

/// Revokes the active token with this name (admin); its sessions end with it.
async fn revoke_token(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    if !tokens::revoke(&state.pool, &name).await? {
        return Err(AppError::NotFound(format!(
            "no active token named {name:?}"
        )));
    }
    Ok(Json(serde_json::json!({ "name": name, "revoked": true })))
}
