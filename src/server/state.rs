//! `AppState`: what every handler and server function is handed. Compiled only with `ssr`.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use super::config::Config;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
}

impl AppState {
    pub fn new(pool: PgPool, config: Config) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name("modelgov")
            .site_root(config.site_root.clone())
            .site_pkg_dir("pkg")
            .site_addr(config.bind)
            .build();
        Self {
            pool,
            config: Arc::new(config),
            leptos_options,
        }
    }
}
