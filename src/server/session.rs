//! Dashboard sessions: a token traded at sign-in for a random cookie, kept hashed in Postgres (so
//! any server behind a load balancer knows it) and ending with its token, at sign-out, or when it
//! expires. Each session has a CSRF secret that every change made through it must carry.
//! Compiled only with `ssr`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderMap;
use http::header;
use sqlx::PgPool;
use subtle_eq::equal;

use super::repo::tokens::{self, TokenOwner};
use crate::error::AppError;
use crate::model::role::Role;

/// The session cookie's name.
pub const COOKIE: &str = "modelgov_session";

/// A signed-in session, put into the request's extensions by the access middleware.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: TokenOwner,
    pub csrf: String,
}

impl Session {
    /// Refuses (403) a change whose CSRF secret is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        if equal(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "the form is stale or was not sent from modelgov (CSRF check failed); reload the page and try again".into(),
            ))
        }
    }
}

/// The session of the request being served (inside a page render or a server function).
pub fn current() -> Option<Session> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Session>().cloned())
}

/// The session of the request being served, allowed to make a change that needs `needed`:
/// 401 without a session, 403 below the role or without the session's CSRF secret.
pub fn authorize(needed: Role, csrf: &str) -> Result<Session, AppError> {
    let session = current()
        .ok_or_else(|| AppError::Unauthorized("sign in first: this changes something".into()))?;
    session.check_csrf(csrf)?;
    if !session.caller.role.allows(needed) {
        return Err(AppError::Forbidden(format!(
            "this needs the {needed} role; you are signed in as {:?} with the {} role",
            session.caller.name, session.caller.role
        )));
    }
    Ok(session)
}

/// Compares secrets in time that does not depend on where they differ.
mod subtle_eq {
    pub fn equal(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

fn random_hex() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a session");
        AppError::Internal
    })?;
    Ok(super::hex(&bytes))
}

/// Starts a session for `owner`; returns the cookie's secret.
pub async fn start(pool: &PgPool, owner: &TokenOwner, hours: u64) -> Result<String, AppError> {
    let secret = random_hex()?;
    let csrf = random_hex()?;
    let hours = i32::try_from(hours).unwrap_or(i32::MAX);
    sqlx::query!("DELETE FROM sessions WHERE expires_at < now()")
        .execute(pool)
        .await?;
    sqlx::query!(
        "INSERT INTO sessions (hash, token_id, csrf, expires_at) VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
        tokens::hash(&secret),
        owner.id,
        csrf,
        hours,
    )
    .execute(pool)
    .await?;
    Ok(secret)
}

/// The live session with this cookie secret: unexpired, its token unrevoked.
pub async fn find(pool: &PgPool, secret: &str) -> Result<Option<Session>, AppError> {
    let row = sqlx::query!(
        r#"
        SELECT t.id, t.name, t.role::text AS "role!", s.csrf
        FROM sessions s JOIN api_tokens t ON t.id = s.token_id
        WHERE s.hash = $1 AND s.expires_at > now() AND t.revoked_at IS NULL
        "#,
        tokens::hash(secret),
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| {
        Some(Session {
            caller: TokenOwner {
                id: row.id,
                name: row.name,
                role: Role::parse(&row.role)?,
            },
            csrf: row.csrf,
        })
    }))
}

/// Ends the session with this cookie secret.
pub async fn end(pool: &PgPool, secret: &str) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM sessions WHERE hash = $1", tokens::hash(secret))
        .execute(pool)
        .await?;
    Ok(())
}

/// The session cookie's secret, if the request carries one.
pub fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// The `Set-Cookie` value that stores `secret` (or, with `None`, removes the cookie).
pub fn set_cookie(secret: Option<&str>, secure: bool, hours: u64) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match secret {
        Some(secret) => format!(
            "{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            hours * 3600
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

/// Sign-in attempts per client address: at most `PER_MINUTE` a minute, then 429 until the
/// minute is over. Kept in memory: each server counts its own.
#[derive(Default)]
pub struct SignInLimiter {
    attempts: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

const PER_MINUTE: u32 = 10;
const WINDOW: Duration = Duration::from_mins(1);

impl SignInLimiter {
    /// Counts an attempt from `client`; the seconds to wait when it is one too many.
    pub fn attempt(&self, client: Option<IpAddr>) -> Result<(), u64> {
        let Ok(mut attempts) = self.attempts.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        if attempts.len() > 10_000 {
            attempts.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
        }
        let entry = attempts.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > PER_MINUTE {
            Err(WINDOW
                .saturating_sub(now.duration_since(entry.0))
                .as_secs()
                .max(1))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; modelgov_session=abc123; other=1"
                .parse()
                .unwrap(),
        );
        assert_eq!(cookie(&headers).as_deref(), Some("abc123"));
        headers.insert(header::COOKIE, "modelgov_session_x=1".parse().unwrap());
        assert_eq!(cookie(&headers), None);
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let set = set_cookie(Some("s"), false, 12);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
        assert!(!set.contains("Secure"));
        assert!(set_cookie(Some("s"), true, 12).ends_with("; Secure"));
        assert!(set_cookie(None, false, 12).contains("Max-Age=0"));
    }

    #[test]
    fn sign_in_attempts_are_limited_per_client() {
        let limiter = SignInLimiter::default();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..PER_MINUTE {
            assert!(limiter.attempt(a).is_ok());
        }
        let wait = limiter.attempt(a).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.attempt(Some(IpAddr::from([10, 0, 0, 2]))).is_ok());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(equal(b"abc", b"abc"));
        assert!(!equal(b"abc", b"abd"));
        assert!(!equal(b"abc", b"ab"));
    }
}
