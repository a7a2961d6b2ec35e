//! `AppState`: what every handler and server function is handed. Compiled only with `ssr`.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use std::time::Duration;

use super::config::Config;
use super::ingest::queue::WriteQueue;
use super::metrics::{Recomputer, catalog};
use super::service::write::WriteService;
use crate::model::metrics::Catalog;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    /// Writes go through here, so that concurrent requests share transactions.
    pub writes: WriteQueue,
    /// The metric catalog, checked at start.
    pub catalog: Arc<Catalog>,
    /// Recomputes the metrics after writes.
    pub recomputer: Recomputer,
    /// Pages already rendered from the current data.
    pub rendered: Arc<crate::server::page_cache::RenderedPages>,
    /// Bytes of write bodies held at once, across every write surface.
    pub intake: super::intake::Budget,
    /// Sign-in attempts per client, to slow down guessing.
    pub sign_ins: Arc<crate::server::session::SignInLimiter>,
    /// Every write that is not a batch of records: registry operations, mappings, MLflow calls.
    pub write_service: WriteService,
}

impl AppState {
    /// Builds the state, loads the metric catalog (an error names the bad line) and starts the
    /// writer and recompute tasks (so it needs a Tokio runtime).
    pub fn new(pool: PgPool, config: Config) -> Result<Self, String> {
        let catalog = Arc::new(catalog::load(config.catalog_path.as_deref())?);
        let recomputer = Recomputer::start(
            pool.clone(),
            catalog.clone(),
            Duration::from_millis(config.recompute_debounce_ms),
            Duration::from_secs(config.full_recompute_minutes.max(1) * 60),
        );
        let leptos_options = LeptosOptions::builder()
            .output_name("modelgov")
            .site_root(config.site_root.clone())
            .site_pkg_dir(pkg_dir(&config.site_root))
            .site_addr(config.bind)
            .build();
        // A quarter of the connections write records. OpenLineage events have one writer of
        // their own: with two (each run's events on one of them), each took half the batch and
        // the whole did less (`scripts/bench --sections 7`, 2 cores: 1,278-1,441 events/s against
        // 1,594-1,770 with one).
        let writers = usize::try_from(config.db_pool_size / 4)
            .unwrap_or(1)
            .clamp(1, 4);
        let config_budget = config.ingest_budget_mb.saturating_mul(1024 * 1024);
        Ok(Self {
            writes: WriteQueue::start(pool.clone(), writers, 1, recomputer.clone()),
            write_service: WriteService::new(pool.clone(), recomputer.clone()),
            pool,
            config: Arc::new(config),
            leptos_options,
            catalog,
            recomputer,
            rendered: Arc::default(),
            sign_ins: Arc::default(),
            intake: super::intake::Budget::new(config_budget),
        })
    }
}

/// Where the browser bundle is served from: `pkg/<version>` when the site was built with a
/// version (`<site root>/pkg-version`, the hash of the bundle's files: its addresses change with
/// its content, so browsers may keep them for good), else `pkg`.
pub fn pkg_dir(site_root: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(site_root).join("pkg-version"))
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map_or_else(|| "pkg".to_string(), |v| format!("pkg/{v}"))
}
