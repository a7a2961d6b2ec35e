//! The incremental recompute against a real Postgres: after random sequences of writes of every
//! kind, judging only the model sources the changes could affect must leave exactly what a full
//! recompute computes. A full recompute writes rows only where a result differs from the one
//! that holds, so after an exact incremental one it writes none.

use modelgov::server::metrics::{self, catalog};
use sqlx::PgPool;

mod records;
use records::{asset, edge, ingest, measure, run};

/// A small deterministic generator (xorshift), so that a failure replays from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const MEASUREMENTS: [&str; 7] = [
    "fairness_gap",
    "safety_evaluated",
    "security_scan_passed",
    "serving_latency_p99_ms",
    "robustness_score",
    "quality_delta",
    "energy_kwh",
];
const UNITS: [&str; 4] = ["corp", "a", "b", "c"];

/// What the test has written so far: the ids to pick from.
#[derive(Default)]
struct Graph {
    models: Vec<String>,
    runs: Vec<String>,
    binaries: Vec<String>,
    serial: usize,
}

impl Graph {
    fn fresh(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!("{prefix}{}", self.serial)
    }
}

fn unit(id: &str, parent: Option<&str>) -> String {
    let parent = parent.map_or_else(String::new, |p| {
        format!(r#","parent":{{"source":"hr","id":"{p}"}}"#)
    });
    format!(r#"{{"type":"org_unit","source":"hr","id":"{id}","name":"Unit {id}"{parent}}}"#)
}

fn owned_by(unit: &str) -> String {
    format!(r#","owner":{{"source":"hr","id":"{unit}"}}"#)
}

/// One random write (a few records) of one kind.
fn write(rng: &mut Rng, g: &mut Graph) -> Vec<String> {
    match rng.below(10) {
        // A measurement of a binary or of a run.
        0 | 1 if !g.binaries.is_empty() => {
            let target = if rng.below(3) == 0 {
                format!("ci:{}", rng.pick(&g.runs))
            } else {
                format!("x:{}", rng.pick(&g.binaries))
            };
            let name = *rng.pick(&MEASUREMENTS);
            let value = match name {
                "serving_latency_p99_ms" | "energy_kwh" => (rng.below(600)) as f64,
                "safety_evaluated" | "security_scan_passed" => (rng.below(2)) as f64,
                _ => rng.below(100) as f64 / 100.0,
            };
            vec![measure(
                &target,
                name,
                value,
                i64::try_from(rng.below(200)).unwrap(),
            )]
        }
        // A new run with its binary for a model source.
        2 | 3 if !g.models.is_empty() => {
            let model = rng.pick(&g.models).clone();
            let (r, b) = (g.fresh("r"), g.fresh("b"));
            let status = *rng.pick(&["succeeded", "failed"]);
            let lines = vec![
                run(&r, status, i64::try_from(rng.below(300)).unwrap()),
                asset(&b, "model_binary", ""),
                edge(&format!("x:{model}"), &format!("ci:{r}")),
                edge(&format!("ci:{r}"), &format!("x:{b}")),
            ];
            g.runs.push(r);
            g.binaries.push(b);
            lines
        }
        // A deployment moved to another binary, or its status changed.
        4 | 5 if !g.binaries.is_empty() => {
            let deployment = format!("p{}", rng.below(4));
            let status = *rng.pick(&["production", "staging", "retired"]);
            vec![
                asset(
                    &deployment,
                    "deployment",
                    &format!(r#","status":"{status}""#),
                ),
                edge(
                    &format!("x:{}", rng.pick(&g.binaries)),
                    &format!("x:{deployment}"),
                ),
            ]
        }
        // Lineage: a dataset (owned or not) read by a run, with a feature and maybe its source.
        6 if !g.runs.is_empty() => {
            let dataset = format!("d{}", rng.below(3));
            let feature = format!("f{}", rng.below(3));
            let owner = if rng.below(2) == 0 {
                owned_by(UNITS[rng.below(UNITS.len())])
            } else {
                String::new()
            };
            let mut lines = vec![
                asset(&dataset, "dataset", &owner),
                asset(&feature, "logical_feature", ""),
                edge(
                    &format!("x:{dataset}"),
                    &format!("ci:{}", rng.pick(&g.runs)),
                ),
                edge(&format!("x:{feature}"), &format!("x:{dataset}")),
            ];
            if rng.below(2) == 0 {
                lines.push(asset("s0", "feature_source", ""));
                lines.push(edge("x:s0", &format!("x:{feature}")));
            }
            lines
        }
        // A model source's owner, named owners or description changed.
        7 if !g.models.is_empty() => {
            let model = rng.pick(&g.models).clone();
            let owners = *rng.pick(&[r#"["a@x"]"#, r#"["a@x","A@x ","b@x"]"#, "[]"]);
            let description = "d".repeat(rng.below(300));
            vec![asset(
                &model,
                "model_source",
                &format!(
                    r#"{},"owners":{owners},"description":"{description}""#,
                    owned_by(UNITS[rng.below(UNITS.len())])
                ),
            )]
        }
        // The org tree: a unit moves under another (never under itself or its own child).
        8 => {
            let (moved, parent) =
                *rng.pick(&[("c", "a"), ("c", "b"), ("c", "corp"), ("b", "corp")]);
            vec![unit(moved, Some(parent))]
        }
        // A new model source, owned or not.
        _ => {
            let model = g.fresh("m");
            let owner = if rng.below(4) == 0 {
                String::new()
            } else {
                owned_by(UNITS[rng.below(UNITS.len())])
            };
            g.models.push(model.clone());
            vec![asset(&model, "model_source", &owner)]
        }
    }
}

/// Every model source's held result and every unit's held rollup, as text, for comparing two
/// states (the ages left out: they grow with the clock between two recomputes).
async fn held(pool: &PgPool) -> (Vec<String>, Vec<String>) {
    let models: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws(' ', model_id, owner_unit_id, judged_on, judged_binaries, metric_levels, domain_levels, overall_level)
         FROM model_results WHERE valid_to = 9223372036854775807 ORDER BY model_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let units: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws(' ', unit_id, level0, level1, level2, level3, unknown, score)
         FROM unit_rollups WHERE valid_to = 9223372036854775807 ORDER BY unit_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (models, units)
}

#[sqlx::test]
async fn incremental_recomputes_equal_a_full_one_after_random_writes(pool: PgPool) {
    let catalog = catalog::load(None).unwrap();
    ingest(
        &pool,
        &[
            unit("corp", None),
            unit("a", Some("corp")),
            unit("b", Some("corp")),
            unit("c", Some("b")),
        ],
    )
    .await;
    metrics::recompute(&pool, &catalog).await.unwrap();
    let mut incremental_runs = 0;
    // One graph grows through every seed's writes.
    let mut g = Graph::default();
    for seed in [0x9e37_79b9_7f4a_7c15_u64, 0xdead_beef_cafe_f00d, 20_261_129] {
        let mut rng = Rng(seed);
        for step in 0..40 {
            let mut lines = Vec::new();
            for _ in 0..=rng.below(3) {
                lines.extend(write(&mut rng, &mut g));
            }
            ingest(&pool, &lines).await;
            // Every fourth batch is left to a full recompute, which must then gather the
            // evidence where the batch reached (it keeps the rest); the others are judged
            // incrementally.
            let by_full = step % 4 == 3;
            if !by_full {
                // A write that repeats what the graph holds changes nothing: nothing to judge.
                if let Some(done) = metrics::recompute_changed(&pool, &catalog).await.unwrap() {
                    assert!(done.incremental, "same catalog: incremental");
                    incremental_runs += 1;
                }
            }
            if step % 4 == 1 {
                let before = held(&pool).await;
                let full = metrics::recompute_from_scratch(&pool, &catalog)
                    .await
                    .unwrap();
                assert_eq!(
                    (full.changed, full.units_changed),
                    (0, 0),
                    "seed {seed:#x}, step {step}: the full recompute found results the incremental ones missed\nlast write: {lines:#?}"
                );
                assert_eq!(held(&pool).await, before);
            }
            if by_full {
                metrics::recompute(&pool, &catalog).await.unwrap();
                let before = held(&pool).await;
                let scratch = metrics::recompute_from_scratch(&pool, &catalog)
                    .await
                    .unwrap();
                assert_eq!(
                    (scratch.changed, scratch.units_changed),
                    (0, 0),
                    "seed {seed:#x}, step {step}: gathering all evidence again found results the full recompute missed\nlast write: {lines:#?}"
                );
                assert_eq!(held(&pool).await, before);
            }
        }
    }
    assert!(
        incremental_runs > 75,
        "{incremental_runs} of 90 incrementally judged writes changed something"
    );
    assert!(
        metrics::recompute_changed(&pool, &catalog)
            .await
            .unwrap()
            .is_none(),
        "nothing written since: nothing to judge"
    );
}

#[sqlx::test]
async fn a_snapshot_costs_the_results_that_changed(pool: PgPool) {
    let catalog = catalog::load(None).unwrap();
    let mut lines = vec![unit("corp", None), unit("a", Some("corp"))];
    for i in 0..20 {
        lines.push(asset(&format!("m{i}"), "model_source", &owned_by("a")));
        lines.push(run(&format!("r{i}"), "succeeded", 3));
        lines.push(asset(&format!("b{i}"), "model_binary", ""));
        lines.push(edge(&format!("x:m{i}"), &format!("ci:r{i}")));
        lines.push(edge(&format!("ci:r{i}"), &format!("x:b{i}")));
    }
    ingest(&pool, &lines).await;
    let first = metrics::recompute(&pool, &catalog).await.unwrap();
    assert_eq!((first.models, first.changed), (20, 20));
    // Nothing changed: a full recompute writes a snapshot and no result.
    let again = metrics::recompute(&pool, &catalog).await.unwrap();
    assert_eq!(
        (again.models, again.changed, again.units_changed),
        (20, 0, 0)
    );
    // One measurement: one model judged and written, its unit and the company rolled up again.
    ingest(&pool, &[measure("x:b7", "fairness_gap", 0.5, 1)]).await;
    let one = metrics::recompute_changed(&pool, &catalog)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((one.models, one.changed, one.units_changed), (1, 1, 2));
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM model_results")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 21);
    // Every snapshot still reads whole: 20 models as of each.
    for snapshot in [first.snapshot_id, again.snapshot_id, one.snapshot_id] {
        let held: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM model_results WHERE snapshot_id <= $1 AND valid_to > $1",
        )
        .bind(snapshot)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(held, 20, "snapshot {snapshot}");
    }
}

#[sqlx::test]
async fn the_demo_company_comes_with_half_a_year_of_weekly_history(pool: PgPool) {
    use modelgov::server::demo::{self, DemoSize};
    use modelgov::server::metrics::reads;

    let catalog = catalog::load(None).unwrap();
    let now = chrono::Utc::now();
    let size = DemoSize {
        model_sources: 40,
        seed: 7,
        now,
        batch: 1_000,
    };
    demo::load_with_history(&pool, size, &catalog, 182)
        .await
        .unwrap();
    // 25 weeks before now, then one now; in time order, the order their ids say.
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT computed_at FROM metric_snapshots ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(times.len(), 26);
    assert!(times.windows(2).all(|w| w[0] < w[1]));
    assert!(times[0] < now - chrono::Duration::days(170));

    // The company's trend over the year moves: models appear, and evidence comes in over time.
    let company: i64 = sqlx::query_scalar("SELECT modelgov_company()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let trend = reads::trend(
        &pool,
        company,
        "overall",
        now - chrono::Duration::days(365),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(trend.len(), 26);
    let models: Vec<i64> = trend.iter().map(|p| p.counts.total()).collect();
    assert!(
        models[0] < models[25],
        "models appear over time: {models:?}"
    );
    assert_eq!(models[25], 40, "{models:?}");
    let scores: std::collections::BTreeSet<String> = trend
        .iter()
        .filter_map(|p| p.score.map(|s| format!("{s:.3}")))
        .collect();
    assert!(scores.len() > 3, "the score moves: {scores:?}");

    // The latest results equal a full recompute of the graph as it is now.
    let full = metrics::recompute(&pool, &catalog).await.unwrap();
    assert_eq!((full.changed, full.units_changed), (0, 0));
    // History is written in time order only.
    let refused = metrics::recompute_at(&pool, &catalog, now - chrono::Duration::days(3)).await;
    assert!(
        matches!(refused, Err(modelgov::error::AppError::Conflict(_))),
        "{refused:?}"
    );
    // Loading again, with results there, writes no history.
    demo::load_with_history(&pool, size, &catalog, 182)
        .await
        .unwrap();
    let snapshots: i64 = sqlx::query_scalar("SELECT count(*) FROM metric_snapshots")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(snapshots, 27);
}

#[sqlx::test]
async fn a_new_scan_within_the_same_level_renews_the_age(pool: PgPool) {
    use modelgov::model::record::Ref;
    use modelgov::server::metrics::reads;

    let catalog = catalog::load(None).unwrap();
    ingest(
        &pool,
        &[
            unit("corp", None),
            asset("m1", "model_source", &owned_by("corp")),
            run("r1", "succeeded", 40),
            asset("b1", "model_binary", ""),
            edge("x:m1", "ci:r1"),
            edge("ci:r1", "x:b1"),
            measure("x:b1", "security_scan_passed", 1.0, 20),
        ],
    )
    .await;
    metrics::recompute(&pool, &catalog).await.unwrap();
    let age = |m: &modelgov::model::metrics::ModelMetrics| {
        let r = m
            .metrics
            .iter()
            .find(|r| r.metric == "security_scan_age")
            .unwrap();
        (
            r.level.map(modelgov::model::metrics::Level::get),
            r.value.unwrap(),
        )
    };
    let key = Ref {
        source: "x".into(),
        id: "m1".into(),
    };
    let snapshot = reads::snapshot(&pool, None).await.unwrap();
    let (level, days) = age(&reads::model_metrics(&pool, &snapshot, &key).await.unwrap());
    assert!((19.9..20.1).contains(&days), "{days}");
    // Scanned again yesterday: the same level, a new age.
    ingest(&pool, &[measure("x:b1", "security_scan_passed", 1.0, 1)]).await;
    let done = metrics::recompute_changed(&pool, &catalog)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.changed, 1);
    let snapshot = reads::snapshot(&pool, None).await.unwrap();
    let (again, days) = age(&reads::model_metrics(&pool, &snapshot, &key).await.unwrap());
    assert_eq!(again, level);
    assert!((0.9..1.1).contains(&days), "{days}");
}

/// A full recompute judges from the graph what the changes reach and ages the other results by
/// the clock: an age that crosses a threshold with nothing written must move the level exactly
/// as judging the whole graph again does.
#[sqlx::test]
async fn the_clock_alone_moves_an_age_across_a_threshold_as_judging_the_graph_again_does(
    pool: PgPool,
) {
    use modelgov::model::record::Ref;
    use modelgov::server::metrics::reads;

    let catalog = catalog::load(None).unwrap();
    ingest(
        &pool,
        &[
            unit("corp", None),
            asset("m1", "model_source", &owned_by("corp")),
            // Thirty days old an hour ago.
            format!(
                r#"{{"type":"asset","source":"ci","id":"r1","kind":"workflow_run","name":"r1","status":"succeeded","started_at":"{}","ended_at":"{}"}}"#,
                (chrono::Utc::now() - chrono::Duration::hours(31 * 24)).to_rfc3339(),
                (chrono::Utc::now() - chrono::Duration::hours(30 * 24 + 1)).to_rfc3339(),
            ),
            asset("b1", "model_binary", ""),
            edge("x:m1", "ci:r1"),
            edge("ci:r1", "x:b1"),
            asset("m2", "model_source", &owned_by("corp")),
            run("r2", "succeeded", 5),
            asset("b2", "model_binary", ""),
            edge("x:m2", "ci:r2"),
            edge("ci:r2", "x:b2"),
        ],
    )
    .await;
    let freshness = async |model: &str| {
        let snapshot = reads::snapshot(&pool, None).await.unwrap();
        let key = Ref {
            source: "x".into(),
            id: model.into(),
        };
        let metrics = reads::model_metrics(&pool, &snapshot, &key).await.unwrap();
        let result = metrics
            .metrics
            .iter()
            .find(|r| r.metric == "retraining_freshness")
            .unwrap();
        (
            result.level.map(modelgov::model::metrics::Level::get),
            result.value.unwrap(),
        )
    };
    // Two hours ago the run was not yet 30 days old: level 3 (at or below 30 days).
    let then = chrono::Utc::now() - chrono::Duration::hours(2);
    metrics::recompute_at(&pool, &catalog, then).await.unwrap();
    let (level, days) = freshness("m1").await;
    assert_eq!(level, Some(3));
    assert!((29.9..30.0).contains(&days), "{days}");
    // Now it is older than 30 days: level 2, with nothing written since, by ageing the held
    // result (everything was read from the graph two hours ago). The other model stays at 3.
    let now = metrics::recompute(&pool, &catalog).await.unwrap();
    assert!(!now.incremental);
    assert_eq!((now.models, now.changed), (2, 1), "{now:?}");
    let kind = async || -> String {
        sqlx::query_scalar("SELECT kind FROM metric_snapshots ORDER BY id DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(kind().await, "aged");
    let (level, days) = freshness("m1").await;
    assert_eq!(level, Some(2));
    assert!((30.0..30.1).contains(&days), "{days}");
    assert_eq!(freshness("m2").await.0, Some(3));
    // Judging the whole graph again finds the same.
    let before = held(&pool).await;
    let scratch = metrics::recompute_from_scratch(&pool, &catalog)
        .await
        .unwrap();
    assert_eq!((scratch.changed, scratch.units_changed), (0, 0));
    assert_eq!(held(&pool).await, before);
    // Ageing again now (everything was read from the graph just now); after a release that
    // judges differently, reading the graph again; and once a day all the same.
    for (before_it, expected) in [
        (None, "aged"),
        (
            Some("UPDATE metric_snapshots SET evaluation = 'an older release'"),
            "full",
        ),
        (
            Some("UPDATE metric_snapshots SET computed_at = computed_at - interval '2 days'"),
            "full",
        ),
        (None, "aged"),
    ] {
        if let Some(sql) = before_it {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        metrics::recompute(&pool, &catalog).await.unwrap();
        assert_eq!(kind().await, expected, "after {before_it:?}");
    }
    assert_eq!(held(&pool).await, before);
}

#[sqlx::test]
async fn thinning_keeps_every_result_that_a_kept_snapshot_reads(pool: PgPool) {
    use chrono::{Duration, Utc};

    let catalog = catalog::load(None).unwrap();
    let day = (Utc::now() - Duration::days(5))
        .date_naive()
        .and_hms_opt(8, 0, 0)
        .unwrap()
        .and_utc();
    let describe = |text: &str| asset("m1", "model_source", &format!(r#","description":"{text}""#));
    ingest(&pool, &[describe("short")]).await;
    let first = metrics::recompute_at(&pool, &catalog, day).await.unwrap();
    ingest(&pool, &[describe("a longer description")]).await;
    let second = metrics::recompute_at(&pool, &catalog, day + Duration::hours(1))
        .await
        .unwrap();
    let last_of_day = metrics::recompute_at(&pool, &catalog, day + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(
        (first.changed, second.changed, last_of_day.changed),
        (1, 1, 0)
    );
    // Now: the first two snapshots of that day go, the last stays.
    metrics::recompute(&pool, &catalog).await.unwrap();
    let kept: Vec<i64> = sqlx::query_scalar("SELECT id FROM metric_snapshots ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(!kept.contains(&first.snapshot_id) && !kept.contains(&second.snapshot_id));
    assert!(kept.contains(&last_of_day.snapshot_id));
    // The row the last one read moved to it; the one nothing kept reads went.
    let rows: Vec<i64> = sqlx::query_scalar("SELECT snapshot_id FROM model_results")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows, [last_of_day.snapshot_id]);
    let then = modelgov::server::metrics::reads::snapshot(&pool, Some(day + Duration::hours(3)))
        .await
        .unwrap();
    assert_eq!(then.meta.id, last_of_day.snapshot_id);
    let m1 = modelgov::model::record::Ref {
        source: "x".into(),
        id: "m1".into(),
    };
    let results = modelgov::server::metrics::reads::model_metrics(&pool, &then, &m1)
        .await
        .unwrap();
    let documentation = results
        .metrics
        .iter()
        .find(|r| r.metric == "documentation")
        .unwrap();
    assert_eq!(
        documentation.value,
        Some("a longer description".len() as f64)
    );
}
