//! The HTTP API under `/api/v1`. JSON in and out; errors are `{"error": "..."}` with the status
//! of their `AppError`. Compiled only with `ssr`.

pub mod graph;
pub mod lineage;
pub mod mappings;
pub mod metrics;
pub mod mlflow;
pub mod registry;

use axum::Json;
use axum::Router;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};

use super::state::AppState;
use crate::error::AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if matches!(self, AppError::Unauthorized(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The media type a request's body says it is (lower case, without parameters); JSON when it
/// says nothing.
pub fn media_type(headers: &http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub fn routes() -> Router<AppState> {
    graph::routes()
        .merge(lineage::routes())
        .merge(mappings::routes())
        .merge(metrics::routes())
        .merge(mlflow::routes())
        .merge(registry::routes())
}
