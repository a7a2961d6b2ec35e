//! The HTTP API under `/api/v1`. JSON in and out; errors are `{"error": "..."}` with the status
//! of their `AppError`. Compiled only with `ssr`.

pub mod graph;
pub mod lineage;
pub mod mappings;
pub mod metrics;

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
    graph::routes()
        .merge(lineage::routes())
        .merge(mappings::routes())
        .merge(metrics::routes())
}
