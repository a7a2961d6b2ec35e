//! The server: configuration, state, database, routes. Compiled only with `ssr`.

pub mod access;
pub mod auth;
pub mod charts;
pub mod config;
pub mod db;
pub mod demo;
pub mod health;
pub mod ingest;
pub mod intake;
pub mod metrics;
pub mod page_cache;
pub mod repo;
pub mod rest;
pub mod service;
pub mod session;
pub mod state;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use http::{HeaderValue, header};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::{App, shell};
use config::Config;
use state::AppState;

/// The whole app as an axum router: pages, server functions, health checks and static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let request_timeout = Duration::from_secs(state.config.request_timeout_secs);
    // A versioned bundle is served with its brotli or gzip twin (built beside it), as the client
    // takes them, and kept by browsers for good; anything else under the site root goes through Leptos's file handler.
    let pkg = state.leptos_options.site_pkg_dir.to_string();
    let bundle = (pkg != "pkg").then(|| {
        let files = tower_http::services::ServeDir::new(
            std::path::Path::new(state.leptos_options.site_root.as_ref()).join(&pkg),
        )
        .precompressed_br()
        .precompressed_gzip();
        Router::new()
            .fallback_service(files)
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ))
    });
    let app = Router::new();
    let app = match bundle {
        Some(bundle) => app.nest(&format!("/{pkg}"), bundle),
        None => app,
    };
    app.route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/health", get(health::mlflow_health))
        .merge(rest::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            page_cache::serve_cached,
        ))
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        // Outside the timeout, so that a 408 carries the security headers too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        // Pages, JSON and exports go out compressed when the client takes it (the bundle is
        // compressed already).
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Connects, migrates and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> Result<(), String> {
    let pool = db::connect(&config)?;
    db::wait_and_migrate(&pool, Duration::from_secs(config.db_startup_wait_secs)).await?;
    // Responses go out as soon as they are written: a page streamed in two parts must not wait
    // for the client's delayed ACK (40 ms) before its second part.
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| format!("cannot listen on {} (MODELGOV_BIND): {e}", config.bind))?
        .tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
        });
    repo::org_units::set_company(&pool, config.company.as_ref())
        .await
        .map_err(|e| format!("cannot keep the company of MODELGOV_COMPANY: {e}"))?;
    let state = AppState::new(pool, config)?;
    // At 100,000 models a recompute takes a while: run one at start only when the results no
    // longer describe the database (new catalog, or writes since the last snapshot).
    if metrics::is_stale(&state.pool, &state.catalog)
        .await
        .map_err(|e| format!("cannot read the metric snapshots: {e}"))?
    {
        state.recomputer.request();
    }
    let address = state.config.bind;
    tracing::info!(%address, "modelgov is serving");
    println!("modelgov is serving on http://{address}");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| format!("server failed: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
