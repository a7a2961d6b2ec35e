//! `AppState`: what every handler and server function is handed. Compiled only with `ssr`.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use super::config::Config;
use super::ingest::queue::WriteQueue;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    /// Writes go through here, so that concurrent requests share transactions.
    pub writes: WriteQueue,
}

impl AppState {
    /// Builds the state and starts its writer tasks (so it needs a Tokio runtime).
    pub fn new(pool: PgPool, config: Config) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name("modelgov")
            .site_root(config.site_root.clone())
            .site_pkg_dir("pkg")
            .site_addr(config.bind)
            .build();
        let writers = usize::try_from(config.db_pool_size / 4)
            .unwrap_or(1)
            .clamp(1, 4);
        Self {
            writes: WriteQueue::start(pool.clone(), writers),
            pool,
            config: Arc::new(config),
            leptos_options,
        }
    }
}
