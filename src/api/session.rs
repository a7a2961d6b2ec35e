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

    use crate::error::respond_error;
    use crate::server::{session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let parts = use_context::<Parts>();
        let client = parts.as_ref().and_then(|parts| {
            session::client_address(
                &parts.headers,
                parts
                    .extensions
                    .get::<ConnectInfo<std::net::SocketAddr>>()
                    .map(|info| info.0.ip()),
                state.config.forwarded_for,
            )
        });
        if let Err(wait) = state.sign_ins.check(client) {
            return Err(AppError::TooManyRequests(wait));
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(AppError::BadRequest("paste your token to sign in".into()));
        }
        let Some(owner) = crate::server::repo::tokens::find(&state.pool, token).await? else {
            state.sign_ins.failed(client);
            return Err(AppError::Unauthorized(
                "that token is unknown or revoked".into(),
            ));
        };
        // A sign-in replaces the browser's earlier session, if it had one.
        let secure = parts
            .as_ref()
            .is_some_and(|p| session::secure(&p.headers, state.config.https));
        if let Some(old) = parts
            .as_ref()
            .and_then(|p| session::cookie(&p.headers, secure))
        {
            session::end(&state.pool, &old).await?;
        }
        let hours = state.config.session_hours.max(1);
        let secret = session::start(&state.pool, &owner, hours).await?;
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

    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        session::authorize(Role::Viewer, &csrf)?;
        let secure =
            use_context::<Parts>().is_some_and(|p| session::secure(&p.headers, state.config.https));
        if let Some(secret) =
            use_context::<Parts>().and_then(|p| session::cookie(&p.headers, secure))
        {
            session::end(&state.pool, &secret).await?;
        }
        let cookie = session::set_cookie(None, secure, 0);
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
