//! Who is calling the API: a bearer token, looked up by its hash. Compiled only with `ssr`.

use axum::extract::FromRequestParts;
use http::header;
use http::request::Parts;

use super::repo::tokens::{self, TokenOwner};
use super::state::AppState;
use crate::error::AppError;
use crate::model::role::Role;

/// A caller with a valid, unrevoked token.
#[derive(Debug, Clone)]
pub struct Caller(pub TokenOwner);

impl Caller {
    /// How the history names this caller.
    pub fn actor(&self) -> String {
        format!("token:{}", self.0.name)
    }

    /// Refuses (403) a caller whose role is below `needed`.
    pub fn require(&self, needed: Role) -> Result<(), AppError> {
        if self.0.role.allows(needed) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this needs the {needed} role; the token {:?} has the {} role",
                self.0.name, self.0.role
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            AppError::Unauthorized("send a token: Authorization: Bearer <token>".into())
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::Unauthorized("the Authorization header must be: Bearer <token>".into())
            })?;
        tokens::find(&state.pool, token)
            .await?
            .map(Caller)
            .ok_or_else(|| AppError::Unauthorized("the token is unknown or revoked".into()))
    }
}
