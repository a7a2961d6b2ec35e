//! Who is calling the API: a bearer token, looked up by its hash. Compiled only with `ssr`.
//!
//! The extractors ask the router's state only for its pool (`FromRef`), so that they work with
//! any state that has one and this module depends on no state type.

use axum::extract::{FromRef, FromRequestParts};
use http::header;
use http::request::Parts;
use sqlx::PgPool;

use super::repo::tokens::{self, TokenOwner};
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

/// A bearer token taken from the request, not yet checked. Writes check it in the write queue,
/// once for a whole batch of requests that carry it; everything else goes through [`Caller`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bearer(pub String);

impl Bearer {
    /// The caller this token belongs to: 401 when it is unknown or revoked, 403 when its role is
    /// below `needed`.
    pub async fn check(&self, pool: &sqlx::PgPool, needed: Role) -> Result<Caller, AppError> {
        let caller = tokens::find(pool, &self.0)
            .await?
            .map(Caller)
            .ok_or_else(|| AppError::Unauthorized("the token is unknown or revoked".into()))?;
        caller.require(needed)?;
        Ok(caller)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            AppError::Unauthorized("send a token: Authorization: Bearer <token>".into())
        })?;
        value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Bearer(t.to_string()))
            .ok_or_else(|| {
                AppError::Unauthorized("the Authorization header must be: Bearer <token>".into())
            })
    }
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let bearer = Bearer::from_request_parts(parts, state).await?;
        tokens::find(&PgPool::from_ref(state), &bearer.0)
            .await?
            .map(Caller)
            .ok_or_else(|| AppError::Unauthorized("the token is unknown or revoked".into()))
    }
}

/// A caller with at least the editor role: the token and role are checked from the headers,
/// before the body is read (a body extractor runs after this one).
#[derive(Debug, Clone)]
pub struct Editor(pub Caller);

/// A caller with the admin role, checked as [`Editor`] is.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

async fn with_role<S>(parts: &mut Parts, state: &S, needed: Role) -> Result<Caller, AppError>
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    let caller = Caller::from_request_parts(parts, state).await?;
    caller.require(needed)?;
    Ok(caller)
}

impl<S> FromRequestParts<S> for Editor
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        with_role(parts, state, Role::Editor).await.map(Self)
    }
}

impl<S> FromRequestParts<S> for Admin
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        with_role(parts, state, Role::Admin).await.map(Self)
    }
}
