//! Signing in and out of the dashboard, and who is signed in.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::role::SignedIn;

/// Who is signed in to this browser (none when reading anonymously).
#[server(prefix = "/api/fn", endpoint = "whoami")]
#[allow(clippy::unused_async)] // a server function is async, with or without awaits
pub async fn whoami() -> Result<Option<SignedIn>, AppError> {
    Ok(crate::server::session::current().map(|s| SignedIn {
        name: s.caller.name,
        role: s.caller.role,
        csrf: s.csrf,
    }))
}

/// Trades a token for a session cookie. Attempts are limited per client address.
#[server(prefix = "/api/fn", endpoint = "sign_in")]
pub async fn sign_in(token: String) -> Result<(), AppError> {
    use axum::extract::ConnectInfo;
    use http::{HeaderValue, header, request::Parts};
    use leptos_axum::ResponseOptions;

    use crate::server::{respond_error, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let client = use_context::<Parts>().and_then(|parts| {
            parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip())
        });
        if let Err(wait) = state.sign_ins.attempt(client) {
            return Err(AppError::TooManyRequests(wait));
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(AppError::BadRequest("paste your token to sign in".into()));
        }
        let owner = crate::server::repo::tokens::find(&state.pool, token)
            .await?
            .ok_or_else(|| AppError::Unauthorized("that token is unknown or revoked".into()))?;
        let hours = state.config.session_hours.max(1);
        let secret = session::start(&state.pool, &owner, hours).await?;
        let secure = state.config.https
            || use_context::<Parts>().is_some_and(|parts| {
                parts
                    .headers
                    .get("x-forwarded-proto")
                    .is_some_and(|v| v.as_bytes() == b"https")
            });
        let cookie = session::set_cookie(Some(&secret), secure, hours);
        if let (Some(response), Ok(cookie)) = (
            use_context::<ResponseOptions>(),
            HeaderValue::from_str(&cookie),
        ) {
            response.append_header(header::SET_COOKIE, cookie);
        }
        tracing::info!(token = %owner.name, role = %owner.role, "signed in");
        Ok(())
    }
    .await
    .map_err(respond_error)
}

/// Ends this browser's session.
#[server(prefix = "/api/fn", endpoint = "sign_out")]
pub async fn sign_out(csrf: String) -> Result<(), AppError> {
    use http::{HeaderValue, header, request::Parts};
    use leptos_axum::ResponseOptions;

    use crate::model::role::Role;
    use crate::server::{respond_error, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        session::authorize(Role::Viewer, &csrf)?;
        if let Some(secret) = use_context::<Parts>().and_then(|p| session::cookie(&p.headers)) {
            session::end(&state.pool, &secret).await?;
        }
        let cookie = session::set_cookie(None, state.config.https, 0);
        if let (Some(response), Ok(cookie)) = (
            use_context::<ResponseOptions>(),
            HeaderValue::from_str(&cookie),
        ) {
            response.append_header(header::SET_COOKIE, cookie);
        }
        Ok(())
    }
    .await
    .map_err(respond_error)
}
