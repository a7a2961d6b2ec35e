//! Metrics: the catalog, the evaluation of every model source, rollups over the org tree, and the
//! snapshots that keep them over time. A recompute is one transaction, so readers see a whole
//! snapshot or none: set-based statements judge every model source and count them per owning
//! unit; the counts are then summed up the org tree. Compiled only with `ssr`.

pub mod catalog;
pub mod export;
pub mod reads;
mod statements;

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::{Executor, PgPool};
use tokio::sync::Notify;
use tracing::instrument;

use crate::error::AppError;
use crate::model::metrics::{Catalog, Counts, Level};

/// What a recompute wrote.
#[derive(Debug, Clone)]
pub struct Recomputed {
    pub snapshot_id: i64,
    pub computed_at: DateTime<Utc>,
    pub models: i64,
    pub duration: Duration,
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
        // The generated statements have hundreds of expressions: compiling them costs seconds
        // and saves less.
        "SET LOCAL jit = off",
    ] {
        let conn: &mut sqlx::PgConnection = &mut tx;
        conn.execute(setting).await?;
    }
    let catalog_json = serde_json::to_value(catalog).map_err(|e| {
        tracing::error!(error = %e, "cannot serialize the catalog");
        AppError::Internal
    })?;
    let snapshot = sqlx::query!(
        "INSERT INTO metric_snapshots (catalog_version, catalog, scopes) VALUES ($1, $2, $3) RETURNING id, computed_at",
        catalog.version,
        catalog_json,
        &catalog.scopes(),
    )
    .fetch_one(&mut *tx)
    .await?;

    // The first stage builds temporary tables; the second reads them and is written for this
    // catalog, so sqlx cannot check either at compile time: the tests run both.
    let conn: &mut sqlx::PgConnection = &mut tx;
    conn.execute(include_str!("../../../queries/evaluate_prepare.sql"))
        .await?;
    let p = statements::parameters(catalog);
    // The rows written come back (their owner and levels), so that the rollups count them
    // without reading the results again.
    let judged: Vec<Judged> = sqlx::query_as(&statements::evaluate(catalog))
        .bind(snapshot.id)
        .bind(snapshot.computed_at)
        .bind(&p.measurements)
        .bind(&p.thresholds[0])
        .bind(&p.thresholds[1])
        .bind(&p.thresholds[2])
        .bind(&p.metric_weights)
        .bind(&p.domain_weights)
        .fetch_all(&mut *tx)
        .await?;
    let models = judged.len();
    write_rollups(&mut tx, catalog, snapshot.id, &judged).await?;
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

/// A model source as the evaluation wrote it: its owning unit and its levels per metric, per
/// domain and overall (`None` for unknown).
type Judged = (Option<i64>, Vec<Option<i16>>, Vec<Option<i16>>, Option<i16>);

/// Counts the models each unit owns directly (unit 0 for the unowned) at each level and unknown,
/// in every scope in the order of [`Catalog::scopes`]: metrics, domains, overall.
fn own_counts(judged: &[Judged], width: usize) -> Vec<(i64, Vec<Counts>)> {
    let mut own: HashMap<i64, Vec<Counts>> = HashMap::new();
    for (unit, metrics, domains, overall) in judged {
        let counts = own
            .entry(unit.unwrap_or(0))
            .or_insert_with(|| vec![Counts::default(); width]);
        let levels = metrics
            .iter()
            .chain(domains)
            .chain(std::iter::once(overall));
        for (count, level) in counts.iter_mut().zip(levels) {
            count.add(
                level
                    .and_then(|l| u8::try_from(l).ok())
                    .and_then(Level::new),
            );
        }
    }
    own.into_iter().collect()
}

/// Rolls snapshot `snapshot_id`'s model results up the org tree into `unit_rollups`: the models
/// each unit owns directly are counted from the rows the evaluation wrote, and the sums up the
/// tree are done over units rather than models (21,000 units and 27 scopes are 570,000 sums; as
/// SQL they cost seconds).
async fn write_rollups(
    tx: &mut sqlx::PgConnection,
    catalog: &Catalog,
    snapshot_id: i64,
    judged: &[Judged],
) -> Result<(), AppError> {
    let width = catalog.scopes().len();
    let own = own_counts(judged, width);
    let units: Vec<(i64, Option<i64>)> = sqlx::query_as("SELECT id, parent_id FROM org_units")
        .fetch_all(&mut *tx)
        .await?;
    let company: Option<i64> = sqlx::query_scalar("SELECT modelgov_company()")
        .fetch_one(&mut *tx)
        .await?;
    let totals = spread(&units, company, own, width);
    // COPY in text form: one line per unit, each column an array literal in scope order.
    let mut lines = String::with_capacity(totals.len() * width * 12);
    for (unit, counts) in &totals {
        let _ = write!(lines, "{snapshot_id}\t{unit}");
        let column = |pick: &dyn Fn(&Counts) -> String| {
            counts.iter().map(pick).collect::<Vec<_>>().join(",")
        };
        for level in 0..4 {
            let _ = write!(lines, "\t{{{}}}", column(&|c| c.levels[level].to_string()));
        }
        let _ = write!(lines, "\t{{{}}}", column(&|c| c.unknown.to_string()));
        let scores = column(&|c| c.score().map_or_else(|| "NULL".into(), |s| s.to_string()));
        let _ = writeln!(lines, "\t{{{scores}}}");
    }
    let mut copy = tx
        .copy_in_raw(
            "COPY unit_rollups (snapshot_id, unit_id, level0, level1, level2, level3, unknown, score) FROM STDIN",
        )
        .await?;
    copy.send(lines.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// Sums the counts of the models each unit owns directly (`own`, unit 0 for the unowned) up the
/// tree of `units` (id, parent): a unit's total is its own models and every unit's below it.
/// Unowned models keep their own row (unit 0) and count once more, at the company (and so at no
/// other top-level unit). Every unit gets a row: one with no model at or below it has zero counts
/// (and so no score).
pub fn spread(
    units: &[(i64, Option<i64>)],
    company: Option<i64>,
    own: Vec<(i64, Vec<Counts>)>,
    scopes: usize,
) -> std::collections::BTreeMap<i64, Vec<Counts>> {
    let parent: std::collections::HashMap<i64, Option<i64>> = units.iter().copied().collect();
    let mut totals: std::collections::BTreeMap<i64, Vec<Counts>> = units
        .iter()
        .map(|(id, _)| (*id, vec![Counts::default(); scopes]))
        .collect();
    let mut add = |unit: i64, counts: &[Counts]| {
        let total = totals
            .entry(unit)
            .or_insert_with(|| vec![Counts::default(); scopes]);
        for (t, c) in total.iter_mut().zip(counts) {
            t.merge(c);
        }
    };
    for (unit, counts) in own {
        if unit == 0 {
            add(0, &counts);
            if let Some(company) = company {
                add(company, &counts);
            }
            continue;
        }
        // The tree has no cycles (a trigger refuses them); the bound only guards a broken one.
        let mut at = Some(unit);
        let mut steps = 0;
        while let Some(id) = at
            && steps <= units.len()
        {
            add(id, &counts);
            at = parent.get(&id).copied().flatten();
            steps += 1;
        }
    }
    totals
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
    /// Requests so far, for tests that check a write asked for one.
    requests: Arc<std::sync::atomic::AtomicU64>,
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
        Self {
            wanted,
            requests: Arc::default(),
        }
    }

    /// Asks for a recompute after the current burst of writes.
    pub fn request(&self) {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.wanted.notify_one();
    }

    /// How many recomputes were asked for since the start.
    pub fn requested(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }
}
