//! `/healthz` (the process is up), `/readyz` (the database answers), and `/health`, MLflow's own
//! liveness check, for clients pointed at modelgov as at an MLflow server. Compiled only with
//! `ssr`.

use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use sqlx::PgPool;

/// 200 as long as the process serves requests.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// MLflow's `/health`: 200 `OK` while the process serves.
pub async fn mlflow_health() -> &'static str {
    "OK"
}

/// 200 when the database answers a query; 503 with `Retry-After` within about a second otherwise.
pub async fn readyz(State(pool): State<PgPool>) -> Response {
    let ping = sqlx::query("SELECT 1").execute(&pool);
    match tokio::time::timeout(Duration::from_millis(1500), ping).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer in time");
            unavailable()
        }
    }
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        "database unavailable\n",
    )
        .into_response()
}
