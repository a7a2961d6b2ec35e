//! The HTTP API under `/api/v1`. JSON in and out; errors are `{"error": "..."}` with the status
//! of their `AppError`. Compiled only with `ssr`.

pub mod campaigns;
pub mod governance;
pub mod graph;
pub mod lineage;
pub mod mappings;
pub mod metrics;
pub mod mlflow;
pub mod openapi;
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

pub fn routes() -> Router<AppState> {
    let native = graph::routes()
        .merge(governance::routes())
        .merge(campaigns::routes())
        .merge(lineage::routes())
        .merge(mappings::routes())
        .merge(metrics::routes())
        .merge(registry::routes())
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(openapi::document),
        )
        .layer(axum::middleware::map_response(errors_as_json));
    native.merge(mlflow::routes())
}

/// Answers an error that axum wrote itself (a path or query that does not read, a method the
/// route does not take) in the API's shape, `{"error": "..."}`, like every other error.
async fn errors_as_json(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let text = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": text }).to_string();
    Response::from_parts(parts, axum::body::Body::from(body))
}
