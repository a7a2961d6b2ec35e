//! Dashboard sessions: a cookie's secret, kept as its hash, that stands for a token for some
//! hours. Compiled only with `ssr`.

use sqlx::PgPool;

use super::tokens::TokenOwner;
use crate::error::AppError;
use crate::model::role::Role;

/// Keeps a session for the token `token_id` (its cookie secret's `hash`) for `hours`, and drops
/// the sessions that have expired.
pub async fn store(
    pool: &PgPool,
    hash: &[u8],
    token_id: i64,
    csrf: &str,
    hours: i32,
) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM sessions WHERE expires_at < now()")
        .execute(pool)
        .await?;
    sqlx::query!(
        "INSERT INTO sessions (hash, token_id, csrf, expires_at) VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
        hash,
        token_id,
        csrf,
        hours,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The token and CSRF secret of the live session whose secret has this `hash`: unexpired, its
/// token unrevoked.
pub async fn find(pool: &PgPool, hash: &[u8]) -> Result<Option<(TokenOwner, String)>, AppError> {
    let row = sqlx::query!(
        r#"
        SELECT t.id, t.name, t.role::text AS "role!", s.csrf
        FROM sessions s JOIN api_tokens t ON t.id = s.token_id
        WHERE s.hash = $1 AND s.expires_at > now() AND t.revoked_at IS NULL
        "#,
        hash,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| {
        let role = Role::parse(&row.role)?;
        Some((
            TokenOwner {
                id: row.id,
                name: row.name,
                role,
            },
            row.csrf,
        ))
    }))
}

/// Ends the session whose secret has this `hash`.
pub async fn delete(pool: &PgPool, hash: &[u8]) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM sessions WHERE hash = $1", hash)
        .execute(pool)
        .await?;
    Ok(())
}
