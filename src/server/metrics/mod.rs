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
use crate::model::governance::covers;
use crate::model::metrics::{Catalog, Counts, Level};
use crate::server::repo::{campaigns, exemptions};

/// What a recompute wrote.
#[derive(Debug, Clone)]
pub struct Recomputed {
    pub snapshot_id: i64,
    pub computed_at: DateTime<Utc>,
    /// How many model sources it judged (all of them, or those a change could affect).
    pub models: i64,
    /// How many model sources' results changed (rows written).
    pub changed: i64,
    /// How many org units' rollups changed.
    pub units_changed: i64,
    pub incremental: bool,
    pub duration: Duration,
}

/// How much a recompute judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Every model source: judged from the graph where the changes since the newest snapshot
    /// reach (and where there is no result), and elsewhere its held result aged by the clock (the
    /// graph decided nothing anew for it). With another catalog, or none before, as `Everything`.
    All,
    /// Every model source judged from the graph, all the evidence gathered again: what `All`
    /// relies on, checked.
    Everything,
    /// The model sources that the changes since the newest snapshot could affect.
    Changed,
}

/// A full recompute reads every fact from the graph again when the last one that did is older
/// than this; in between, it ages what the graph's changes did not reach.
const FROM_GRAPH_HOURS: i64 = 24;

/// Lock ids: one recompute at a time; writers record changes under the shared mark lock.
const RECOMPUTE_LOCK: i64 = 7_246_001;
const MARK_LOCK: i64 = 7_246_002;

/// Judges every model source against `catalog` and rolls the levels up the org tree, as one new
/// snapshot. Rows are written only where a result changed (see migration 0015).
pub async fn recompute(pool: &PgPool, catalog: &Catalog) -> Result<Recomputed, AppError> {
    run(pool, catalog, Reach::All, None)
        .await
        .map(|done| done.expect("a full recompute always writes a snapshot"))
}

/// A full recompute that gathers every result's evidence again instead of keeping it where
/// the graph did not change: slower, and it must find the same results (the tests check that).
pub async fn recompute_from_scratch(
    pool: &PgPool,
    catalog: &Catalog,
) -> Result<Recomputed, AppError> {
    run(pool, catalog, Reach::Everything, None)
        .await
        .map(|done| done.expect("a full recompute always writes a snapshot"))
}

/// A full recompute as of `at`, a time in the past (ages are judged from it), from the graph as
/// it is: for loading history in time order (the demo generator). 409 when a snapshot at or
/// after `at` exists, since results are kept in time order.
pub async fn recompute_at(
    pool: &PgPool,
    catalog: &Catalog,
    at: DateTime<Utc>,
) -> Result<Recomputed, AppError> {
    run(pool, catalog, Reach::All, Some(at))
        .await
        .map(|done| done.expect("a full recompute always writes a snapshot"))
}

/// Judges only the model sources that the graph's changes since the newest snapshot could affect
/// (everything when the catalog changed or there is no snapshot), and updates the rollups of
/// the units above them. `None` when nothing changed.
pub async fn recompute_changed(
    pool: &PgPool,
    catalog: &Catalog,
) -> Result<Option<Recomputed>, AppError> {
    run(pool, catalog, Reach::Changed, None).await
}

/// The newest change id once every change up to it has committed: writers record changes under
/// a shared lock (migration 0015), taken here alone for a moment, on the recompute's own
/// connection in a savepoint whose rollback releases it. Every writer waits meanwhile, so an
/// impatient caller gives up after 250 ms (`None`) rather than stall them behind a long write.
async fn change_mark(tx: &mut sqlx::PgConnection, patient: bool) -> Result<Option<i64>, AppError> {
    tx.execute("SAVEPOINT change_mark").await?;
    if !patient {
        tx.execute("SET LOCAL lock_timeout = '250ms'").await?;
    }
    let locked = sqlx::query!("SELECT pg_advisory_xact_lock($1)", MARK_LOCK)
        .execute(&mut *tx)
        .await;
    let mark = match locked {
        Ok(_) => Some(
            sqlx::query_scalar!(r#"SELECT coalesce(max(id), 0) AS "mark!" FROM changes"#)
                .fetch_one(&mut *tx)
                .await?,
        ),
        Err(error)
            if error
                .as_database_error()
                .and_then(sqlx::error::DatabaseError::code)
                .is_some_and(|code| code == "55P03") =>
        {
            None
        }
        Err(error) => return Err(error.into()),
    };
    // Undoes the lock and the timeout; the mark read stays read.
    tx.execute("ROLLBACK TO SAVEPOINT change_mark").await?;
    tx.execute("RELEASE SAVEPOINT change_mark").await?;
    Ok(mark)
}

#[instrument(skip_all, fields(catalog = %catalog.version, ?reach))]
async fn run(
    pool: &PgPool,
    catalog: &Catalog,
    reach: Reach,
    at: Option<DateTime<Utc>>,
) -> Result<Option<Recomputed>, AppError> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    // One recompute at a time, whichever server runs it; it may take longer than a request and
    // sort more in memory. The generated statements have hundreds of expressions: compiling
    // them costs seconds and saves less (jit off).
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", RECOMPUTE_LOCK)
        .execute(&mut *tx)
        .await?;
    for setting in [
        "SET LOCAL statement_timeout = '10min'",
        "SET LOCAL work_mem = '256MB'",
        "SET LOCAL jit = off",
    ] {
        let conn: &mut sqlx::PgConnection = &mut tx;
        conn.execute(setting).await?;
    }
    // Read with the recompute lock held: every change up to the mark has committed, and each
    // statement below sees at least that much (read committed). After writes, a recompute that
    // would stall writers waits for the next turn instead (503 Busy).
    let Some(mark) = change_mark(&mut tx, reach != Reach::Changed).await? else {
        return Err(AppError::Busy);
    };
    let previous = sqlx::query!(
        r#"
        SELECT catalog_version, changes_through, computed_at, evaluation,
               (SELECT max(f.computed_at) FROM metric_snapshots f WHERE f.kind = 'full') AS from_graph_at
        FROM metric_snapshots ORDER BY id DESC LIMIT 1
        "#
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let (Some(at), Some(p)) = (at, &previous)
        && p.computed_at >= at
    {
        return Err(AppError::Conflict(format!(
            "results exist as of {}, after {at}: history is written in time order",
            p.computed_at
        )));
    }
    let same_catalog = previous
        .as_ref()
        .is_some_and(|p| p.catalog_version == catalog.version);
    // Judged the same way: the same catalog and the same statements. A release that judges
    // differently reads everything from the graph once, as a new catalog does.
    let evaluation = statements::evaluation_version(catalog);
    let same_judging = same_catalog
        && previous.as_ref().and_then(|p| p.evaluation.as_deref()) == Some(&evaluation);
    let since = match (&previous, reach) {
        (Some(p), Reach::Changed) if same_judging => p.changes_through,
        _ => None,
    };
    if since == Some(mark) {
        return Ok(None);
    }
    {
        let conn: &mut sqlx::PgConnection = &mut tx;
        conn.execute(statements::CREATE_RESULTS).await?;
        conn.execute("CREATE TEMP TABLE eval_scope (id bigint PRIMARY KEY) ON COMMIT DROP")
            .await?;
    }
    let prepare = include_str!("../../../queries/evaluate_prepare.sql");
    // The model sources a change could affect: the changed assets (both ends of a changed edge),
    // followed to the runs that read or produced them, and those runs' model sources. An
    // incremental recompute judges only those; a full one with the same catalog gathers the
    // evidence again only for those (the rest keep what their results name).
    let reached_since = match (since, &previous) {
        (Some(since), _) => Some(since),
        (None, Some(p)) if same_judging && reach == Reach::All => p.changes_through,
        (None, _) => None,
    };
    if let Some(reached_since) = reached_since {
        sqlx::query(include_str!("../../../queries/evaluate_scope.sql"))
            .bind(reached_since)
            .bind(mark)
            .execute(&mut *tx)
            .await?;
        let conn: &mut sqlx::PgConnection = &mut tx;
        conn.execute("ANALYZE eval_scope").await?;
    }
    // A full recompute with the same catalog judges from the graph only what the changes reach
    // (and any model source without a result), and ages every other result by the clock: the
    // graph decided nothing else anew for it. `recompute_from_scratch` judges all from the graph.
    // Once a day everything is read from the graph again all the same: what ageing relies on (that
    // every change is recorded and followed) is checked by the tests, and then corrected in use.
    let judged_at = at.unwrap_or_else(Utc::now);
    let read_lately = previous
        .as_ref()
        .and_then(|p| p.from_graph_at)
        .is_some_and(|t| judged_at - t < chrono::Duration::hours(FROM_GRAPH_HOURS));
    let aged = reach == Reach::All && since.is_none() && reached_since.is_some() && read_lately;
    if aged {
        sqlx::query(
            "INSERT INTO eval_scope (id)
             SELECT a.id FROM assets a
             WHERE a.kind = 'model_source'
               AND NOT EXISTS (SELECT 1 FROM model_results c WHERE c.model_id = a.id AND c.valid_to = $1)
             ON CONFLICT DO NOTHING",
        )
        .bind(statements::HOLDING)
        .execute(&mut *tx)
        .await?;
    }
    let scoped = since.is_some() || aged;
    let evidence_everywhere = since.is_some() || reached_since.is_none();
    let prepare = if scoped {
        prepare.replace("/* scope */", "AND id IN (SELECT id FROM eval_scope)")
    } else {
        // Batch work over whole tables: hash joins, never nested loops that a misestimate can
        // turn into millions of rescans.
        let conn: &mut sqlx::PgConnection = &mut tx;
        conn.execute("SET LOCAL enable_nestloop = off").await?;
        work_tables(prepare)
    };
    let snapshot = sqlx::query!(
        "INSERT INTO metric_snapshots (catalog_version, catalog, scopes, kind, computed_at, evaluation) VALUES ($1, $2, $3, $4, coalesce($5, clock_timestamp()), $6) RETURNING id, computed_at",
        catalog.version,
        serde_json::to_value(catalog).map_err(|e| {
            tracing::error!(error = %e, "cannot serialize the catalog");
            AppError::Internal
        })?,
        &catalog.scopes(),
        if since.is_some() {
            "incremental"
        } else if aged {
            "aged"
        } else {
            "full"
        },
        at,
        evaluation,
    )
    .fetch_one(&mut *tx)
    .await?;

    // The first stage builds temporary tables; the second reads them and is written for this
    // catalog, so sqlx cannot check either at compile time: the tests run both.
    {
        let conn: &mut sqlx::PgConnection = &mut tx;
        conn.execute(prepare.as_str()).await?;
    }
    let p = statements::parameters(catalog);
    let evaluation_sql = statements::evaluate(catalog);
    let judged = judging(&evaluation_sql, snapshot.id, snapshot.computed_at, &p)
        .bind(evidence_everywhere)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    // The results the graph's changes did not reach, aged (those whose levels moved).
    let aged_rows = if aged {
        let age_sql = statements::age(catalog);
        judging(&age_sql, snapshot.id, snapshot.computed_at, &p)
            .execute(&mut *tx)
            .await?
            .rows_affected()
    } else {
        0
    };
    let changed: i64 = sqlx::query_scalar(&statements::write_changes(catalog))
        .bind(snapshot.id)
        .bind(snapshot.computed_at)
        .bind(!same_catalog)
        .bind(!scoped)
        .fetch_one(&mut *tx)
        .await?;
    // Exemptions past their expiry stop counting now; the history says so once.
    exemptions::record_expiries(&mut tx, snapshot.computed_at).await?;
    let units_changed = write_rollups(
        &mut tx,
        catalog,
        snapshot.id,
        !same_catalog,
        snapshot.computed_at,
    )
    .await?;
    // Each open campaign's burn-down point for this snapshot (logged: it is part of the cost).
    let points_started = Instant::now();
    campaigns::record_points(&mut tx, catalog, snapshot.id, snapshot.computed_at).await?;
    let campaign_ms = points_started.elapsed().as_millis();
    if !scoped {
        let conn: &mut sqlx::PgConnection = &mut tx;
        conn.execute(DROP_WORK_TABLES).await?;
    }
    let duration = started.elapsed();
    // Judged from the graph, or held and aged: with `aged`, every model source that has a result.
    let models = if aged {
        sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM model_results WHERE valid_to = $1"#,
            statements::HOLDING
        )
        .fetch_one(&mut *tx)
        .await?
    } else {
        i64::try_from(judged).unwrap_or(i64::MAX)
    };
    sqlx::query!(
        "UPDATE metric_snapshots SET models = $2, duration_ms = $3, changes_through = $4 WHERE id = $1",
        snapshot.id,
        i32::try_from(models).unwrap_or(i32::MAX),
        i32::try_from(duration.as_millis()).unwrap_or(i32::MAX),
        mark,
    )
    .execute(&mut *tx)
    .await?;
    thin_out(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(
        snapshot = snapshot.id,
        models,
        changed,
        units_changed,
        incremental = since.is_some(),
        from_graph = judged,
        aged_rows,
        ms = duration.as_millis(),
        campaign_ms,
        "metrics recomputed"
    );
    Ok(Some(Recomputed {
        snapshot_id: snapshot.id,
        computed_at: snapshot.computed_at,
        models,
        changed,
        units_changed,
        incremental: since.is_some(),
        duration,
    }))
}

/// `sql` with what the evaluation and the ageing both bind: the snapshot, the time judged at, and
/// the catalog's [`statements::Parameters`].
fn judging<'q>(
    sql: &'q str,
    snapshot: i64,
    at: DateTime<Utc>,
    p: &'q statements::Parameters<'q>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sql)
        .bind(snapshot)
        .bind(at)
        .bind(&p.measurements)
        .bind(&p.thresholds[0])
        .bind(&p.thresholds[1])
        .bind(&p.thresholds[2])
        .bind(&p.metric_weights)
        .bind(&p.domain_weights)
}

/// The tables of `queries/evaluate_prepare.sql`, which a full recompute drops before it commits.
const DROP_WORK_TABLES: &str =
    "DROP TABLE eval_models, eval_runs, eval_judged, eval_latest, eval_run_datasets, eval_inputs";

/// The first stage's statements for a full recompute: unlogged work tables instead of temporary
/// ones, so that parallel workers can read them (see the file's header). A rollback drops them
/// like any table created in the transaction; [`DROP_WORK_TABLES`] drops them before a commit.
fn work_tables(prepare: &str) -> String {
    prepare
        .replace("CREATE TEMP TABLE", "CREATE UNLOGGED TABLE")
        .replace(" ON COMMIT DROP", "")
}

/// Keeps every snapshot of the last two days and the last of each day before: trends read days,
/// and a busy day of ingestion leaves hundreds of small snapshots. A result row written by a
/// snapshot that goes moves to the next snapshot that stays if it still holds there; otherwise
/// it goes with its snapshot (the foreign key cascades).
async fn thin_out(tx: &mut sqlx::PgConnection) -> Result<(), AppError> {
    let doomed: Vec<i64> = sqlx::query_scalar!(
        r#"
        SELECT id AS "id!" FROM metric_snapshots
        WHERE computed_at < now() - interval '2 days'
          AND id NOT IN (SELECT max(id) FROM metric_snapshots GROUP BY date_trunc('day', computed_at))
        "#
    )
    .fetch_all(&mut *tx)
    .await?;
    if doomed.is_empty() {
        return Ok(());
    }
    for table in ["model_results", "unit_rollups"] {
        // A fixed table name, never data.
        sqlx::query(&format!(
            r"
            WITH next AS (
                SELECT d AS id,
                       (SELECT min(s.id) FROM metric_snapshots s WHERE s.id > d AND s.id <> ALL($1)) AS kept
                FROM unnest($1::bigint[]) d
            )
            UPDATE {table} r SET snapshot_id = n.kept
            FROM next n WHERE r.snapshot_id = n.id AND n.kept IS NOT NULL AND r.valid_to > n.kept
            "
        ))
        .bind(&doomed)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!("DELETE FROM metric_snapshots WHERE id = ANY($1)", &doomed)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A model source as the evaluation wrote it: its id, its owning unit and its levels per metric,
/// per domain and overall (`None` for unknown).
type Judged = (
    i64,
    Option<i64>,
    Vec<Option<i16>>,
    Vec<Option<i16>>,
    Option<i16>,
);

/// For each model source with an active exemption, the positions (in [`Catalog::scopes`]) its
/// exemptions cover: a metric's own scope; a domain's scope and its metrics'.
fn exempt_positions(catalog: &Catalog, applying: &[(i64, String)]) -> HashMap<i64, Vec<usize>> {
    let scopes = catalog.scopes();
    let mut positions: HashMap<i64, Vec<usize>> = HashMap::new();
    for (model, exempted) in applying {
        let covered = scopes
            .iter()
            .enumerate()
            .filter(|(_, scope)| covers(catalog, exempted, scope))
            .map(|(i, _)| i);
        positions.entry(*model).or_default().extend(covered);
    }
    positions
}

/// Counts the models each unit owns directly (unit 0 for the unowned) at each level, unknown
/// and exempt (`exempt`: the positions each model's exemptions cover), in every scope in the
/// order of [`Catalog::scopes`]: metrics, domains, overall.
fn own_counts(
    judged: &[Judged],
    exempt: &HashMap<i64, Vec<usize>>,
    width: usize,
) -> Vec<(i64, Vec<Counts>)> {
    let mut own: HashMap<i64, Vec<Counts>> = HashMap::new();
    for (model, unit, metrics, domains, overall) in judged {
        let counts = own
            .entry(unit.unwrap_or(0))
            .or_insert_with(|| vec![Counts::default(); width]);
        let levels = metrics
            .iter()
            .chain(domains)
            .chain(std::iter::once(overall));
        let covered = exempt.get(model).map_or(&[][..], Vec::as_slice);
        for (i, (count, level)) in counts.iter_mut().zip(levels).enumerate() {
            if covered.contains(&i) {
                count.exempt += 1;
                continue;
            }
            count.add(
                level
                    .and_then(|l| u8::try_from(l).ok())
                    .and_then(Level::new),
            );
        }
    }
    own.into_iter().collect()
}

/// Rolls the model results that hold after snapshot `snapshot_id` up the org tree, and writes
/// the rollups of the units whose counts changed (every unit's with `rewrite`, when the catalog
/// changed what the arrays mean). The models each unit owns directly are counted from their
/// rows, and the sums up the tree are done over units rather than models (21,000 units and 27
/// scopes are 570,000 sums; as SQL they cost seconds). Returns how many units changed.
async fn write_rollups(
    tx: &mut sqlx::PgConnection,
    catalog: &Catalog,
    snapshot_id: i64,
    rewrite: bool,
    at: DateTime<Utc>,
) -> Result<i64, AppError> {
    let width = catalog.scopes().len();
    let judged: Vec<Judged> = sqlx::query_as(
        "SELECT model_id, owner_unit_id, metric_levels, domain_levels, overall_level FROM model_results WHERE valid_to = $1",
    )
    .bind(statements::HOLDING)
    .fetch_all(&mut *tx)
    .await?;
    let applying = exemptions::applying(&mut *tx, at).await?;
    let own = own_counts(&judged, &exempt_positions(catalog, &applying), width);
    let units: Vec<(i64, Option<i64>)> = sqlx::query_as("SELECT id, parent_id FROM org_units")
        .fetch_all(&mut *tx)
        .await?;
    let company: Option<i64> = sqlx::query_scalar("SELECT modelgov_company()")
        .fetch_one(&mut *tx)
        .await?;
    let mut totals = spread(&units, company, own, width);
    let held: Vec<HeldRollup> = sqlx::query_as(
        "SELECT unit_id, level0, level1, level2, level3, unknown, coalesce(exempt, '{}') FROM unit_rollups WHERE valid_to = $1",
    )
    .bind(statements::HOLDING)
    .fetch_all(&mut *tx)
    .await?;
    let mut closed = Vec::new();
    for (unit, level0, level1, level2, level3, unknown, exempt) in held {
        let same = !rewrite
            && totals.get(&unit).is_some_and(|counts| {
                counts.len() == unknown.len()
                    && counts.iter().enumerate().all(|(i, c)| {
                        let n = |column: &[i32]| column.get(i).copied().unwrap_or(-1);
                        c.levels == [n(&level0), n(&level1), n(&level2), n(&level3)].map(i64::from)
                            && c.unknown == i64::from(n(&unknown))
                            && c.exempt == i64::from(exempt.get(i).copied().unwrap_or(0))
                    })
            });
        if same {
            totals.remove(&unit);
        } else {
            closed.push(unit);
        }
    }
    sqlx::query("UPDATE unit_rollups SET valid_to = $1 WHERE valid_to = $2 AND unit_id = ANY($3)")
        .bind(snapshot_id)
        .bind(statements::HOLDING)
        .bind(&closed)
        .execute(&mut *tx)
        .await?;
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
        let _ = write!(lines, "\t{{{}}}", column(&|c| c.exempt.to_string()));
        let scores = column(&|c| c.score().map_or_else(|| "NULL".into(), |s| s.to_string()));
        let _ = writeln!(lines, "\t{{{scores}}}");
    }
    if !totals.is_empty() {
        let mut copy = tx
            .copy_in_raw(
                "COPY unit_rollups (snapshot_id, unit_id, level0, level1, level2, level3, unknown, exempt, score) FROM STDIN",
            )
            .await?;
        copy.send(lines.into_bytes()).await?;
        copy.finish().await?;
    }
    Ok(i64::try_from(totals.len()).unwrap_or(i64::MAX))
}

/// A unit's rollup row that holds: unit, then the counts at levels 0-3, unknown and exempt per
/// scope.
type HeldRollup = (
    i64,
    Vec<i32>,
    Vec<i32>,
    Vec<i32>,
    Vec<i32>,
    Vec<i32>,
    Vec<i32>,
);

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

/// Recomputes in the background: incrementally after writes, once they have paused for
/// `debounce`, and in full every `full_every` (ages grow with time while nothing is written, so
/// their levels are judged again); writes that arrive during a recompute lead to one more
/// afterwards.
#[derive(Clone)]
pub struct Recomputer {
    wanted: Arc<Notify>,
    /// Requests so far, for tests that check a write asked for one.
    requests: Arc<std::sync::atomic::AtomicU64>,
}

impl Recomputer {
    pub fn start(
        pool: PgPool,
        catalog: Arc<Catalog>,
        debounce: Duration,
        full_every: Duration,
    ) -> Self {
        let wanted = Arc::new(Notify::new());
        let signal = wanted.clone();
        tokio::spawn(async move {
            let mut last_full = Instant::now();
            loop {
                let due = full_every.saturating_sub(last_full.elapsed());
                let full = tokio::select! {
                    () = signal.notified() => false,
                    () = tokio::time::sleep(due) => true,
                };
                if !full {
                    // Let a burst of writes finish: wait until none came for `debounce`, but
                    // under steady writes no longer than ten times that.
                    let started = Instant::now();
                    while started.elapsed() < debounce * 10
                        && tokio::time::timeout(debounce, signal.notified())
                            .await
                            .is_ok()
                    {}
                    match recompute_changed(&pool, &catalog).await {
                        Ok(_) => continue,
                        Err(AppError::Busy) => {
                            // A long write holds the change mark: try again after it.
                            signal.notify_one();
                            continue;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "incremental recompute failed; recomputing in full");
                        }
                    }
                }
                last_full = Instant::now();
                if let Err(error) = recompute(&pool, &catalog).await {
                    tracing::warn!(%error, "recompute failed; the next write or hour retries it");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_recompute_drops_every_work_table_it_makes() {
        let prepare = include_str!("../../../queries/evaluate_prepare.sql");
        let full = work_tables(prepare);
        assert!(!full.contains("TEMP") && !full.contains("ON COMMIT"));
        let made: Vec<&str> = full
            .split("CREATE UNLOGGED TABLE ")
            .skip(1)
            .map(|rest| rest.split_whitespace().next().unwrap())
            .collect();
        let dropped: Vec<&str> = DROP_WORK_TABLES
            .trim_start_matches("DROP TABLE ")
            .split(", ")
            .collect();
        assert_eq!(made, dropped);
    }
}
