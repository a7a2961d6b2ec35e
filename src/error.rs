//! `AppError`: the one error type of the app, shared by server functions, the HTTP API and pages.
//!
//! Each variant has one HTTP status. Messages are safe to show to users; internal details are logged
//! on the server and never sent.

use http::StatusCode;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// 400: the request is malformed or a value is out of range; the message names the problem.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: no token, or one that is unknown or revoked.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: the caller's role does not allow this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: the named thing does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// 409: the write conflicts with a rule of the graph; the message names the rule.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 413: the body is larger than this endpoint takes.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// 415: the body's content type is not one this endpoint reads.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 429: too many attempts (signing in); retry after this many seconds.
    #[error("too many attempts; try again in {0} s")]
    TooManyRequests(u64),
    /// 503: the database cannot be reached right now; retry shortly.
    #[error("the database is unavailable right now; retry in a moment")]
    Unavailable,
    /// 503: the server is taking in as many request bodies as it holds at once; retry shortly.
    #[error("the server is busy taking in other writes; retry in a moment")]
    Busy,
    /// 500: something failed on the server; details are in the server log only.
    #[error("internal error; the details are in the server log")]
    Internal,
    /// 500: the call between browser and server failed (transport, encoding).
    #[error("request failed: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal | Self::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds a client should wait before retrying, for errors that pass by themselves.
    pub fn retry_after_secs(&self) -> Option<u32> {
        match self {
            Self::Unavailable | Self::Busy => Some(1),
            Self::TooManyRequests(secs) => Some(u32::try_from(*secs).unwrap_or(u32::MAX)),
            _ => None,
        }
    }
}

/// The body of every error answer, as the `OpenAPI` document describes it: what went wrong, in
/// words.
#[cfg(feature = "ssr")]
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

/// Sets the status (and `Retry-After`) of the response being rendered to match `error`, logs what
/// the client does not see, and hands the error back for returning.
#[cfg(feature = "ssr")]
pub fn respond_error(error: AppError) -> AppError {
    use http::{HeaderValue, header};
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
        if let Some(secs) = error.retry_after_secs() {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    error
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = Self::from_call(value, cfg!(feature = "ssr"));
        // A call the server could not read is the caller's mistake: its status says so.
        #[cfg(feature = "ssr")]
        let error = crate::error::respond_error(error);
        error
    }
}

impl AppError {
    /// What a failed server-function call means: on the server, arguments it cannot read are a
    /// bad request (413 when over the body limit); everything else is a transport failure.
    fn from_call(value: ServerFnErrorErr, on_server: bool) -> Self {
        match value {
            ServerFnErrorErr::Args(why) | ServerFnErrorErr::MissingArg(why) if on_server => {
                Self::BadRequest(format!("the call's arguments cannot be read: {why}"))
            }
            ServerFnErrorErr::Deserialization(why) if on_server => {
                if why.contains("length limit exceeded") {
                    Self::PayloadTooLarge(format!("the call's body is too large: {why}"))
                } else {
                    Self::BadRequest(format!("the call's body cannot be read: {why}"))
                }
            }
            ServerFnErrorErr::UnsupportedRequestMethod(why) if on_server => {
                Self::BadRequest(format!("the call's method is not accepted: {why}"))
            }
            other => Self::Transport(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_status() {
        assert_eq!(AppError::BadRequest("x".into()).status(), 400);
        assert_eq!(AppError::Unauthorized("x".into()).status(), 401);
        assert_eq!(AppError::Forbidden("x".into()).status(), 403);
        assert_eq!(AppError::NotFound("x".into()).status(), 404);
        assert_eq!(AppError::PayloadTooLarge("x".into()).status(), 413);
        assert_eq!(AppError::UnsupportedMediaType("x".into()).status(), 415);
        assert_eq!(AppError::Conflict("x".into()).status(), 409);
        assert_eq!(AppError::Unavailable.status(), 503);
        assert_eq!(AppError::Internal.status(), 500);
        assert_eq!(AppError::Unavailable.retry_after_secs(), Some(1));
        assert_eq!(AppError::Internal.retry_after_secs(), None);
    }

    #[test]
    fn calls_the_server_cannot_read_are_the_callers_mistake() {
        let args = || ServerFnErrorErr::Args("missing field `csrf`".into());
        assert_eq!(AppError::from_call(args(), true).status(), 400);
        assert_eq!(
            AppError::from_call(ServerFnErrorErr::MissingArg("op".into()), true).status(),
            400
        );
        let big = ServerFnErrorErr::Deserialization("length limit exceeded".into());
        assert_eq!(AppError::from_call(big, true).status(), 413);
        assert_eq!(AppError::from_call(args(), false).status(), 500);
        let failed = ServerFnErrorErr::ServerError("x".into());
        assert_eq!(AppError::from_call(failed, true).status(), 500);
    }

    #[test]
    fn internal_errors_say_nothing_of_their_cause() {
        assert!(!AppError::Internal.to_string().contains("sqlx"));
    }
}
