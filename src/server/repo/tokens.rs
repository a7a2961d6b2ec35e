//! API tokens: created with a random secret shown once; only its SHA-256 is stored. Compiled only
//! with `ssr`.

use sha2::{Digest, Sha256};
use sqlx::PgExecutor;
use tracing::instrument;

use crate::error::AppError;
use crate::model::admin::TokenRow;
use crate::model::role::Role;

/// Every token starts with this, so that secret scanners and people recognise one.
pub const PREFIX: &str = "mgv_";

/// A token's stored fingerprint.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new random token: the prefix and 256 random bits in hex.
pub fn generate() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a token");
        AppError::Internal
    })?;
    Ok(format!("{PREFIX}{}", hex::encode(bytes)))
}

/// Who a token belongs to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// Creates a token; returns the token itself, which is never stored and never shown again.
#[instrument(skip_all, fields(name = %name, role = %role))]
pub async fn create(db: impl PgExecutor<'_>, name: &str, role: Role) -> Result<String, AppError> {
    if name.trim().is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "a token name must be 1-200 characters without control characters".into(),
        ));
    }
    let token = generate()?;
    let inserted = sqlx::query!(
        "INSERT INTO api_tokens (name, role, hash) VALUES ($1, $2::text::token_role, $3)",
        name,
        role.as_str(),
        hash(&token),
    )
    .execute(db)
    .await;
    match inserted {
        Ok(_) => Ok(token),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("api_tokens_active_name") => {
            Err(AppError::Conflict(format!(
                "an active token is already named {name:?}; revoke it first or pick another name"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// The active token with this secret, if any.
pub async fn find(db: impl PgExecutor<'_>, token: &str) -> Result<Option<TokenOwner>, AppError> {
    let row = sqlx::query!(
        r#"SELECT id, name, role::text AS "role!" FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL"#,
        hash(token),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|row| {
        Some(TokenOwner {
            id: row.id,
            name: row.name,
            role: Role::parse(&row.role)?,
        })
    }))
}

/// Every token, revoked ones included, by name.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<TokenRow>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT name, role::text AS "role!", created_at, revoked_at FROM api_tokens ORDER BY revoked_at IS NOT NULL, name, id"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(TokenRow {
                name: row.name,
                role: Role::parse(&row.role)?,
                created_at: row.created_at.to_rfc3339(),
                revoked_at: row.revoked_at.map(|at| at.to_rfc3339()),
            })
        })
        .collect())
}

/// Revokes the active token with this name; false when there is none.
pub async fn revoke(db: impl PgExecutor<'_>, name: &str) -> Result<bool, AppError> {
    let done = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
        name
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}
