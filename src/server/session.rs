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
use subtle::ConstantTimeEq;

use super::repo::sessions;
use super::repo::tokens::{self, TokenOwner};
use crate::error::AppError;
use crate::model::role::Role;

/// The session cookie's name over http.
pub const COOKIE: &str = "modelgov_session";
/// Its name over https: the `__Host-` prefix makes browsers refuse it from any other host (a
/// sibling subdomain cannot set or shadow it).
pub const SECURE_COOKIE: &str = "__Host-modelgov_session";

/// A signed-in session, put into the request's extensions by the access middleware.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: TokenOwner,
    pub csrf: String,
}

impl Session {
    /// Refuses (403) a change whose CSRF secret is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        // In time that does not depend on where the secrets differ.
        if bool::from(sent.as_bytes().ct_eq(self.csrf.as_bytes())) {
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

fn random_hex() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a session");
        AppError::Internal
    })?;
    Ok(hex::encode(bytes))
}

/// Starts a session for `owner`; returns the cookie's secret.
pub async fn start(pool: &PgPool, owner: &TokenOwner, hours: u64) -> Result<String, AppError> {
    let secret = random_hex()?;
    let csrf = random_hex()?;
    let hours = i32::try_from(hours).unwrap_or(i32::MAX);
    sessions::store(pool, &tokens::hash(&secret), owner.id, &csrf, hours).await?;
    Ok(secret)
}

/// The live session with this cookie secret: unexpired, its token unrevoked.
pub async fn find(pool: &PgPool, secret: &str) -> Result<Option<Session>, AppError> {
    Ok(sessions::find(pool, &tokens::hash(secret))
        .await?
        .map(|(caller, csrf)| Session { caller, csrf }))
}

/// Ends the session with this cookie secret.
pub async fn end(pool: &PgPool, secret: &str) -> Result<(), AppError> {
    sessions::delete(pool, &tokens::hash(secret)).await
}

/// The session cookie's secret, if the request carries one. Over https (`secure`) only the
/// `__Host-` cookie counts: a plain one could have been set by a sibling subdomain.
pub fn cookie(headers: &HeaderMap, secure: bool) -> Option<String> {
    let wanted = if secure { SECURE_COOKIE } else { COOKIE };
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// The `Set-Cookie` value that stores `secret` (or, with `None`, removes the cookie).
pub fn set_cookie(secret: Option<&str>, secure: bool, hours: u64) -> String {
    let (name, flag) = if secure {
        (SECURE_COOKIE, "; Secure")
    } else {
        (COOKIE, "")
    };
    let (value, age) = secret.map_or(("", 0), |s| (s, hours.saturating_mul(3600)));
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={age}{flag}")
}

/// Whether the browser reached modelgov over https: configured so, or said so by the proxy in
/// front (`X-Forwarded-Proto`; it only ever makes the cookie stricter).
pub fn secure(headers: &HeaderMap, https: bool) -> bool {
    https
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// The client's address: the peer's, or, behind a proxy that appends it (`forwarded_for`), the
/// last address of `X-Forwarded-For`.
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    forwarded_for: bool,
) -> Option<IpAddr> {
    if !forwarded_for {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .next_back()
        .or(peer)
}

/// Failed sign-ins per client address: after `PER_MINUTE` in a minute, sign-ins from that address
/// are refused (429) until the minute is over. IPv6 addresses count per /64 (one host usually has
/// the whole block). At most `MAX_CLIENTS` addresses are tracked; past that, new ones share one
/// count, so memory stays bounded whatever an attacker rotates through. Kept in memory: each
/// server counts its own.
#[derive(Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

const PER_MINUTE: u32 = 10;
const WINDOW: Duration = Duration::from_mins(1);
const MAX_CLIENTS: usize = 10_000;

/// The address a client's attempts count under.
fn client_key(client: Option<IpAddr>) -> Option<IpAddr> {
    client.map(|ip| match ip {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::from(segments)
        }
        v4 @ IpAddr::V4(_) => v4,
    })
}

impl SignInLimiter {
    /// Refuses a client with too many recent failures: the seconds to wait.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), u64> {
        let Ok(failures) = self.failures.lock() else {
            return Ok(());
        };
        let key = client_key(client);
        let key = if failures.contains_key(&key) {
            key
        } else {
            None
        };
        match failures.get(&key) {
            Some((since, count)) if *count >= PER_MINUTE && since.elapsed() < WINDOW => {
                Err(WINDOW.saturating_sub(since.elapsed()).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed sign-in from `client`.
    pub fn failed(&self, client: Option<IpAddr>) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        let now = Instant::now();
        let mut key = client_key(client);
        if !failures.contains_key(&key) && failures.len() >= MAX_CLIENTS {
            failures.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
            if failures.len() >= MAX_CLIENTS {
                key = None;
            }
        }
        let entry = failures.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
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
        assert_eq!(cookie(&headers, false).as_deref(), Some("abc123"));
        assert_eq!(
            cookie(&headers, true),
            None,
            "over https only __Host- counts"
        );
        headers.insert(header::COOKIE, "modelgov_session_x=1".parse().unwrap());
        assert_eq!(cookie(&headers, false), None);
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let set = set_cookie(Some("s"), false, 12);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
        assert!(!set.contains("Secure"));
        let secure = set_cookie(Some("s"), true, 12);
        assert!(secure.starts_with("__Host-modelgov_session=s;") && secure.ends_with("; Secure"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "__Host-modelgov_session=abc".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, true).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, false), None);
        assert!(set_cookie(None, false, 12).contains("Max-Age=0"));
    }

    #[test]
    fn failed_sign_ins_are_limited_per_client() {
        let limiter = SignInLimiter::default();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..PER_MINUTE {
            assert!(limiter.check(a).is_ok());
            limiter.failed(a);
        }
        let wait = limiter.check(a).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.check(Some(IpAddr::from([10, 0, 0, 2]))).is_ok());
        // One IPv6 host's /64 counts as one client.
        let v6 = |last: u16| Some(IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, last]));
        for i in 0..PER_MINUTE {
            limiter.failed(v6(u16::try_from(i).unwrap()));
        }
        assert!(limiter.check(v6(999)).is_err());
    }

    #[test]
    fn rotating_addresses_share_one_count_past_the_bound() {
        let limiter = SignInLimiter::default();
        for i in 0..u32::try_from(MAX_CLIENTS).unwrap() + PER_MINUTE {
            limiter.failed(Some(IpAddr::from(i.to_be_bytes())));
        }
        assert!(limiter.failures.lock().unwrap().len() <= MAX_CLIENTS + 1);
        assert!(
            limiter.check(Some(IpAddr::from([250, 0, 0, 1]))).is_err(),
            "a new address joins the shared count, which is spent"
        );
    }

    #[test]
    fn the_client_is_the_peer_unless_a_proxy_names_it() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.7".parse().unwrap());
        let peer = Some(IpAddr::from([127, 0, 0, 1]));
        assert_eq!(client_address(&headers, peer, false), peer);
        assert_eq!(
            client_address(&headers, peer, true),
            Some(IpAddr::from([10, 0, 0, 7])),
            "the address the proxy appended"
        );
    }

    #[test]
    fn secrets_compare_whole() {
        let equal = |a: &[u8], b: &[u8]| bool::from(a.ct_eq(b));
        assert!(equal(b"abc", b"abc"));
        assert!(!equal(b"abc", b"abd"));
        assert!(!equal(b"abc", b"ab"));
    }
}
