//! The access middleware, around every request: refuses cross-site writes, finds the session
//! behind the cookie, keeps readers out when reading needs signing in, and puts the security
//! headers on every response. Compiled only with `ssr`.

use std::sync::LazyLock;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderName, HeaderValue, Method, header};

use super::auth::Bearer;
use super::config::Config;
use super::session;
use super::state::AppState;
use crate::error::AppError;
use crate::model::dashboard::encode;
use crate::model::role::Role;
use crate::model::routes;

/// The content security policy: only the app's own scripts (and, on rendered pages, its inline
/// hydration scripts carrying the page's nonce), its own wasm, styles and images.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let nonce = nonce.map_or_else(String::new, |n| format!(" 'nonce-{n}'"));
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{nonce}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy of every response that is not a rendered page (built once).
static DEFAULT_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    HeaderValue::from_str(&content_security_policy(None))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
});

/// Why a state-changing request is refused as cross-site, if it is: the browser says so
/// (`Sec-Fetch-Site`), or its `Origin` is not this host. Clients that are not browsers send
/// neither and authenticate with a bearer token, which no other site can attach.
fn cross_site(headers: &HeaderMap) -> Option<String> {
    let text = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    match text(HeaderName::from_static("sec-fetch-site")) {
        Some("same-origin" | "none") => return None,
        Some(site) => {
            return Some(format!(
                "a {site} request may not change anything here (cross-site request refused)"
            ));
        }
        None => {}
    }
    let origin = text(header::ORIGIN)?;
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    if origin_host.is_some() && origin_host == text(header::HOST) {
        None
    } else {
        Some(format!(
            "a request from {origin:?} may not change anything here (cross-site request refused)"
        ))
    }
}

/// Whether a request's address carries a control character (`%00`-`%1F`, `%7F`): no name, id,
/// filter or time has one, and Postgres cannot even compare text holding NUL.
fn control_in_address(uri: &http::Uri) -> bool {
    let text = uri
        .path_and_query()
        .map_or("", http::uri::PathAndQuery::as_str);
    text.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && std::str::from_utf8(&w[1..])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .is_some_and(|b| b < 0x20 || b == 0x7f)
    })
}

/// Paths anyone may reach, signed in or not: signing in, health checks, the app's files.
fn open(path: &str) -> bool {
    path == routes::SIGN_IN_PATH
        || path.strip_prefix(routes::SERVER_FNS) == Some("sign_in")
        || static_path(path)
}

/// Paths that read nothing a session could change: health checks and the app's files (no
/// session is looked up for them).
fn static_path(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/readyz" | "/health" | "/favicon.ico" | "/favicon.svg"
    ) || path.starts_with("/pkg/")
}

/// The role a state-changing server function needs. Its session is checked here, before the
/// call's body is read; the function checks it again with the CSRF secret, which is in the body.
fn server_fn_role(path: &str) -> Option<Role> {
    match path.strip_prefix(routes::SERVER_FNS)? {
        "operate" => Some(Role::Editor),
        "create_token" | "revoke_token" | "set_mapping" | "delete_mapping" => Some(Role::Admin),
        "sign_out" => Some(Role::Viewer),
        _ => None,
    }
}

/// Refuses a state-changing server function call whose session is missing (401) or whose role
/// is too low (403).
fn session_allows(path: &str, session: Option<&session::Session>) -> Result<(), AppError> {
    let Some(needed) = server_fn_role(path) else {
        return Ok(());
    };
    let session = session
        .ok_or_else(|| AppError::Unauthorized("sign in first: this changes something".into()))?;
    if session.caller.role.allows(needed) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "this needs the {needed} role; you are signed in with the {} role",
            session.caller.role
        )))
    }
}

/// Middleware: see the module's documentation.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let config = state.config.clone();
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if control_in_address(request.uri()) {
        let refused = AppError::BadRequest(
            "the address must not hold control characters (such as %00)".into(),
        );
        return secured(refused.into_response(), &config, false);
    }
    if writes && let Some(why) = cross_site(request.headers()) {
        return secured(AppError::Forbidden(why).into_response(), &config, false);
    }
    let secure = session::secure(request.headers(), config.https);
    let cookie =
        session::cookie(request.headers(), secure).filter(|_| !static_path(request.uri().path()));
    let session = match &cookie {
        Some(secret) => match session::find(&state.pool, secret).await {
            Ok(found) => found,
            Err(error) => return secured(error.into_response(), &config, false),
        },
        None => None,
    };
    if let Err(refused) = session_allows(request.uri().path(), session.as_ref()) {
        return secured(refused.into_response(), &config, session.is_some());
    }
    let signed_in = session.is_some();
    // A cookie whose session has ended (expired, signed out elsewhere, token revoked) is removed.
    let ended = cookie.is_some() && !signed_in;
    if let Some(session) = session {
        request.extensions_mut().insert(session);
    } else if !config.anonymous_read && !open(request.uri().path()) {
        let asked = Asked {
            headers: request.headers().clone(),
            address: request
                .uri()
                .path_and_query()
                .map_or_else(|| "/".into(), ToString::to_string),
            get: request.method() == Method::GET,
        };
        if let Err(refused) = reader(&state, asked).await {
            return secured(refused, &config, false);
        }
    }
    let mut response = next.run(request).await;
    if ended
        && !response.headers().contains_key(header::SET_COOKIE)
        && let Ok(clear) = HeaderValue::from_str(&session::set_cookie(None, secure, 0))
    {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    secured(response, &config, signed_in)
}

/// What [`reader`] needs of a request.
struct Asked {
    headers: HeaderMap,
    /// Path and query.
    address: String,
    get: bool,
}

/// Lets through a request that needs a reader and has no session: one with a valid token, or
/// else a page request is sent to sign in and an API request refused.
async fn reader(state: &AppState, asked: Asked) -> Result<(), Response> {
    if asked.headers.contains_key(header::AUTHORIZATION) {
        let mut parts = http::Request::new(()).into_parts().0;
        parts.headers = asked.headers;
        let bearer =
            <Bearer as axum::extract::FromRequestParts<()>>::from_request_parts(&mut parts, &())
                .await
                .map_err(IntoResponse::into_response)?;
        bearer
            .check(&state.pool, Role::Viewer)
            .await
            .map_err(IntoResponse::into_response)?;
        return Ok(());
    }
    if asked.address.starts_with("/api/") || !asked.get {
        return Err(AppError::Unauthorized(
            "reading needs signing in or a token: Authorization: Bearer <token>".into(),
        )
        .into_response());
    }
    Err(Redirect::to(&format!(
        "{}?next={}",
        routes::SIGN_IN_PATH,
        encode(&asked.address)
    ))
    .into_response())
}

/// Adds the security headers; a signed-in person's pages are also kept out of every cache.
fn secured(mut response: Response, config: &Config, signed_in: bool) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, DEFAULT_POLICY.clone());
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if config.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if signed_in {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn cross_site_writes_are_recognised() {
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])).is_some());
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])).is_some());
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-origin")])).is_none());
        assert!(
            cross_site(&headers(&[
                ("origin", "https://evil.example"),
                ("host", "modelgov.example")
            ]))
            .is_some()
        );
        assert!(
            cross_site(&headers(&[
                ("origin", "http://modelgov.example"),
                ("host", "modelgov.example")
            ]))
            .is_none()
        );
        assert!(cross_site(&headers(&[("origin", "null")])).is_some());
        assert!(
            cross_site(&headers(&[])).is_none(),
            "API clients send neither"
        );
    }

    #[test]
    fn control_characters_in_addresses_are_found() {
        let found = |uri: &str| control_in_address(&uri.parse().unwrap());
        assert!(found("/units/hr/a%00b"));
        assert!(found("/search?q=%1b[31m"));
        assert!(found("/search?q=%7F"));
        assert!(!found("/search?q=%20a%2Fb%C3%A9"));
        assert!(!found("/units/hr/100%25"));
    }

    #[test]
    fn the_policy_carries_the_nonce() {
        let policy = content_security_policy(Some("abc"));
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'nonce-abc';"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!content_security_policy(None).contains("nonce"));
    }
}
