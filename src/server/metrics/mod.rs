//! Metrics: the catalog, the evaluation of every model source, rollups over the org tree, and the
//! snapshots that keep them over time. A recompute is two set-based statements in one
//! transaction, so readers see a whole snapshot or none. Compiled only with `ssr`.

pub mod catalog;
pub mod export;
pub mod reads;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::{Executor, PgPool};
use tokio::sync::Notify;
use tracing::instrument;

use crate::error::AppError;
use crate::model::metrics::{Better, Catalog, Rule, Source};

/// What a recompute wrote.
#[derive(Debug, Clone)]
pub struct Recomputed {
    pub snapshot_id: i64,
    pub computed_at: DateTime<Utc>,
    pub models: i64,
    pub duration: Duration,
}

fn rule(rule: Rule) -> &'static str {
    match rule {
        Rule::Mean => "mean",
        Rule::Min => "min",
    }
}

/// Judges every model source against `catalog` and rolls the levels up the org tree, as one new
/// snapshot.
#[instrument(skip_all, fields(catalog = %catalog.version))]
pub async fn recompute(pool: &PgPool, catalog: &Catalog) -> Result<Recomputed, AppError> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    // One recompute at a time, whichever server runs it; it may take longer than a request and
    // sort more in memory.
    // Batch work over whole tables: hash joins, never nested loops that a misestimate can turn
    // into millions of rescans.
    for setting in [
        "SELECT pg_advisory_xact_lock(7246001)",
        "SET LOCAL statement_timeout = '10min'",
        "SET LOCAL work_mem = '256MB'",
        "SET LOCAL enable_nestloop = off",
    ] {
        let conn: &mut sqlx::PgConnection = &mut tx;
        conn.execute(setting).await?;
    }
    let catalog_json = serde_json::to_value(catalog).map_err(|e| {
        tracing::error!(error = %e, "cannot serialize the catalog");
        AppError::Internal
    })?;
    let snapshot = sqlx::query!(
        "INSERT INTO metric_snapshots (catalog_version, catalog) VALUES ($1, $2) RETURNING id, computed_at",
        catalog.version,
        catalog_json,
    )
    .fetch_one(&mut *tx)
    .await?;

    let domain_index = |id: &str| {
        catalog
            .domains
            .iter()
            .position(|d| d.id == id)
            .and_then(|i| i32::try_from(i + 1).ok())
            .unwrap_or(0)
    };
    let m = &catalog.metrics;
    let kinds: Vec<&str> = m
        .iter()
        .map(|m| match m.source {
            Source::Computed(_) => "computed",
            Source::Measurement(_) => "measurement",
        })
        .collect();
    let names: Vec<&str> = m
        .iter()
        .map(|m| match &m.source {
            Source::Computed(name) | Source::Measurement(name) => name.as_str(),
        })
        .collect();
    let higher: Vec<bool> = m.iter().map(|m| m.direction == Better::Higher).collect();
    let t1: Vec<f64> = m.iter().map(|m| m.thresholds[0]).collect();
    let t2: Vec<f64> = m.iter().map(|m| m.thresholds[1]).collect();
    let t3: Vec<f64> = m.iter().map(|m| m.thresholds[2]).collect();
    let weights: Vec<f64> = m.iter().map(|m| m.weight).collect();
    let domains: Vec<i32> = m.iter().map(|m| domain_index(&m.domain)).collect();
    let domain_rules: Vec<&str> = catalog.domains.iter().map(|d| rule(d.rule)).collect();
    let domain_weights: Vec<f64> = catalog.domains.iter().map(|d| d.weight).collect();
    // The first stage builds temporary tables; the second reads them, so sqlx cannot check it
    // against the schema at compile time: the tests run both.
    let conn: &mut sqlx::PgConnection = &mut tx;
    conn.execute(include_str!("../../../queries/evaluate_prepare.sql"))
        .await?;
    let models = sqlx::query(include_str!("../../../queries/evaluate.sql"))
        .bind(snapshot.id)
        .bind(snapshot.computed_at)
        .bind(&kinds)
        .bind(&names)
        .bind(&higher)
        .bind(&t1)
        .bind(&t2)
        .bind(&t3)
        .bind(&weights)
        .bind(&domains)
        .bind(&domain_rules)
        .bind(&domain_weights)
        .bind(rule(catalog.overall_rule))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query_file!("queries/rollups.sql", snapshot.id, &catalog.scopes())
        .execute(&mut *tx)
        .await?;
    let duration = started.elapsed();
    sqlx::query!(
        "UPDATE metric_snapshots SET models = $2, duration_ms = $3 WHERE id = $1",
        snapshot.id,
        i32::try_from(models).unwrap_or(i32::MAX),
        i32::try_from(duration.as_millis()).unwrap_or(i32::MAX),
    )
    .execute(&mut *tx)
    .await?;
    // Keep every snapshot of the last two days and the last of each day before: trends read
    // days, and a busy day of ingestion must not pile up thousands of full copies.
    sqlx::query!(
        r#"
        DELETE FROM metric_snapshots
        WHERE computed_at < now() - interval '2 days'
          AND id NOT IN (SELECT max(id) FROM metric_snapshots GROUP BY date_trunc('day', computed_at))
        "#
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(
        snapshot = snapshot.id,
        models,
        ms = duration.as_millis(),
        "metrics recomputed"
    );
    Ok(Recomputed {
        snapshot_id: snapshot.id,
        computed_at: snapshot.computed_at,
        models: i64::try_from(models).unwrap_or(i64::MAX),
        duration,
    })
}

/// True when the newest snapshot is missing, was judged with another catalog, or is older than the
/// last change to the graph: then the results no longer describe what the database holds.
pub async fn is_stale(pool: &PgPool, catalog: &Catalog) -> Result<bool, AppError> {
    let fresh = sqlx::query_scalar!(
        r#"
        SELECT EXISTS (
            SELECT 1 FROM metric_snapshots s
            WHERE s.id = (SELECT max(id) FROM metric_snapshots)
              AND s.catalog_version = $1
              AND s.computed_at >= coalesce((SELECT at FROM changes ORDER BY id DESC LIMIT 1), '-infinity')
        ) AS "fresh!"
        "#,
        catalog.version,
    )
    .fetch_one(pool)
    .await?;
    Ok(!fresh)
}

/// Recomputes in the background after writes, once they have paused for `debounce`; writes that
/// arrive during a recompute lead to one more afterwards.
#[derive(Clone)]
pub struct Recomputer {
    wanted: Arc<Notify>,
}

impl Recomputer {
    pub fn start(pool: PgPool, catalog: Arc<Catalog>, debounce: Duration) -> Self {
        let wanted = Arc::new(Notify::new());
        let signal = wanted.clone();
        tokio::spawn(async move {
            loop {
                signal.notified().await;
                // Let a burst of writes finish: wait until none came for `debounce`, but under
                // steady writes no longer than twenty times that.
                let started = Instant::now();
                while started.elapsed() < debounce * 20
                    && tokio::time::timeout(debounce, signal.notified())
                        .await
                        .is_ok()
                {}
                if let Err(error) = recompute(&pool, &catalog).await {
                    tracing::warn!(%error, "recompute after writes failed; the next write retries it");
                }
            }
        });
        Self { wanted }
    }

    /// Asks for a recompute after the current burst of writes.
    pub fn request(&self) {
        self.wanted.notify_one();
    }
}
