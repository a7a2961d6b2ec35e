//! Metric evaluation and rollups against a real Postgres: a small org worked out by hand, and the
//! rollup property on generated companies.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use modelgov::model::evidence::Part;
use modelgov::model::metrics::{Counts, Level, aggregate};
use modelgov::model::record::Ref;
use modelgov::server::demo::{self, DemoSize};
use modelgov::server::metrics::{self, catalog, reads};
use sqlx::PgPool;

mod records;
use records::{asset, edge, ingest, measure, run};

/// Corp > Team A (m1, m4), Team B (m2); m3 belongs to nobody. See each model's comment for the
/// levels it must get.
fn hand_built_org() -> Vec<String> {
    let owned_by = |unit: &str| format!(r#","owner":{{"source":"hr","id":"{unit}"}}"#);
    vec![
        r#"{"type":"org_unit","source":"hr","id":"corp","name":"Corp"}"#.into(),
        r#"{"type":"org_unit","source":"hr","id":"a","name":"Team A","parent":{"source":"hr","id":"corp"}}"#.into(),
        r#"{"type":"org_unit","source":"hr","id":"b","name":"Team B","parent":{"source":"hr","id":"corp"}}"#.into(),
        // m1: everything in order, every metric at level 3.
        asset("m1", "model_source", &format!(r#"{},"owners":["a@x","b@x","c@x"],"description":"{}""#, owned_by("a"), "d".repeat(250))),
        asset("s1", "feature_source", ""),
        asset("f1", "logical_feature", ""),
        asset("d1", "dataset", &owned_by("a")),
        run("r1", "succeeded", 10),
        asset("b1", "model_binary", ""),
        asset("p1", "deployment", r#","status":"production""#),
        edge("x:s1", "x:f1"),
        edge("x:f1", "x:d1"),
        edge("x:d1", "ci:r1"),
        edge("x:m1", "ci:r1"),
        edge("ci:r1", "x:b1"),
        edge("x:b1", "x:p1"),
        measure("x:b1", "fairness_gap", 0.01, 5),
        measure("x:b1", "safety_evaluated", 1.0, 5),
        measure("x:b1", "security_scan_passed", 1.0, 5),
        measure("x:b1", "serving_latency_p99_ms", 20.0, 5),
        measure("x:b1", "robustness_score", 0.95, 5),
        measure("x:b1", "quality_delta", 0.02, 5),
        measure("ci:r1", "energy_kwh", 40.0, 10),
        // m2: production serves a stale binary trained 200 days ago; little else is known.
        asset("m2", "model_source", &owned_by("b")),
        asset("d2", "dataset", ""),
        run("r2a", "succeeded", 200),
        run("r2b", "succeeded", 100),
        run("r2c", "failed", 5),
        asset("b2a", "model_binary", ""),
        asset("b2b", "model_binary", ""),
        asset("p2", "deployment", r#","status":"production""#),
        edge("x:m2", "ci:r2a"),
        edge("x:m2", "ci:r2b"),
        edge("x:m2", "ci:r2c"),
        edge("x:d2", "ci:r2a"),
        edge("ci:r2a", "x:b2a"),
        edge("ci:r2b", "x:b2b"),
        edge("x:b2a", "x:p2"),
        // m3: nobody owns it and it has no binary.
        asset("m3", "model_source", ""),
        // m4: nothing in production, judged on its newest binary, trained 60 days ago.
        asset("m4", "model_source", &owned_by("a")),
        run("r4old", "succeeded", 120),
        run("r4", "succeeded", 60),
        asset("b4old", "model_binary", ""),
        asset("b4", "model_binary", ""),
        asset("s4", "deployment", r#","status":"staging""#),
        edge("x:m4", "ci:r4old"),
        edge("x:m4", "ci:r4"),
        edge("ci:r4old", "x:b4old"),
        edge("ci:r4", "x:b4"),
        edge("x:b4", "x:s4"),
    ]
}

fn x(id: &str) -> Ref {
    Ref {
        source: "x".into(),
        id: id.into(),
    }
}

fn hr(id: &str) -> Ref {
    Ref {
        source: "hr".into(),
        id: id.into(),
    }
}

fn levels(model: &modelgov::model::metrics::ModelMetrics) -> HashMap<String, Option<u8>> {
    let mut all: HashMap<String, Option<u8>> = model
        .metrics
        .iter()
        .map(|m| (m.metric.clone(), m.level.map(u8::from)))
        .collect();
    for (domain, level) in &model.domains {
        all.insert(format!("domain:{domain}"), level.map(u8::from));
    }
    all.insert("overall".into(), model.overall.map(u8::from));
    all
}

fn check(got: &HashMap<String, Option<u8>>, expected: &[(&str, Option<u8>)]) {
    for (scope, level) in expected {
        assert_eq!(got.get(*scope).copied().flatten(), *level, "{scope}");
    }
}

#[sqlx::test]
async fn a_hand_built_org_gets_the_levels_and_rollups_worked_out_by_hand(pool: PgPool) {
    ingest(&pool, &hand_built_org()).await;
    let catalog = catalog::load(None).unwrap();
    metrics::recompute(&pool, &catalog).await.unwrap();
    let snapshot = reads::snapshot(&pool, None).await.unwrap();

    let m1 = reads::model_metrics(&pool, &snapshot, &x("m1"))
        .await
        .unwrap();
    assert_eq!(m1.judged_on, "production");
    assert_eq!(m1.judged_binaries, [x("b1")]);
    assert!(
        m1.metrics.iter().all(|m| m.level == Level::new(3)),
        "{:?}",
        levels(&m1)
    );
    assert_eq!(m1.overall, Level::new(3));
    assert!(m1.metrics.iter().all(|m| m.lift.is_none()));
    // Each level says what decided it, naming the graph nodes as assets to open.
    let named = |metric: &str| -> Vec<String> {
        let result = m1.metrics.iter().find(|m| m.metric == metric).unwrap();
        result
            .because
            .iter()
            .flatten()
            .filter_map(|part| match part {
                Part::Asset { asset } => Some(format!("{}:{}", asset.key.source, asset.key.id)),
                Part::Text { .. } => None,
            })
            .collect()
    };
    assert_eq!(named("lineage_completeness"), ["ci:r1", "x:d1"]);
    assert_eq!(named("retraining_freshness"), ["ci:r1"]);
    assert_eq!(named("fairness_gap"), ["x:b1"]);
    assert_eq!(named("training_energy"), ["ci:r1"]);
    assert_eq!(named("training_reliability"), ["ci:r1"]);
    let freshness = m1
        .metrics
        .iter()
        .find(|m| m.metric == "retraining_freshness")
        .unwrap();
    assert_eq!(freshness.shown.as_deref(), Some("10 days"));

    let m2 = levels(
        &reads::model_metrics(&pool, &snapshot, &x("m2"))
            .await
            .unwrap(),
    );
    check(
        &m2,
        &[
            ("retraining_freshness", Some(0)),
            ("serves_newest_binary", Some(2)),
            ("quality_change", None),
            ("training_energy", None),
            ("safety_evaluation", Some(0)),
            ("safety_evaluation_age", None),
            ("fairness_evaluation", Some(0)),
            ("lineage_completeness", Some(1)),
            ("dataset_ownership", Some(0)),
            ("security_scan", None),
            ("owning_team", Some(3)),
            ("named_owners", Some(0)),
            ("documentation", Some(0)),
            ("training_reliability", Some(1)),
            ("domain:model_quality", Some(0)),
            ("domain:efficiency", None),
            ("domain:safety", Some(0)),
            ("domain:data_governance", Some(0)),
            ("domain:security", None),
            ("domain:ownership", Some(1)),
            ("domain:robustness", Some(1)),
            ("overall", Some(0)),
        ],
    );

    let m3 = reads::model_metrics(&pool, &snapshot, &x("m3"))
        .await
        .unwrap();
    assert_eq!(m3.judged_on, "no_binary");
    check(
        &levels(&m3),
        &[
            ("owning_team", Some(0)),
            // Never unknown, says the catalog: with nothing registered there is no evaluation and
            // none of the chain is known, which is at risk (so a model with nothing registered
            // can never score best).
            ("lineage_completeness", Some(0)),
            ("safety_evaluation", Some(0)),
            ("fairness_evaluation", Some(0)),
            ("documentation", Some(0)),
            ("serves_newest_binary", None),
            ("training_reliability", None),
            ("domain:ownership", Some(0)),
            ("domain:safety", Some(0)),
            ("domain:fairness", Some(0)),
            ("overall", Some(0)),
        ],
    );

    let m4 = reads::model_metrics(&pool, &snapshot, &x("m4"))
        .await
        .unwrap();
    assert_eq!(
        (m4.judged_on.as_str(), m4.judged_binaries.as_slice()),
        ("newest_binary", [x("b4")].as_slice())
    );
    check(
        &levels(&m4),
        &[
            ("retraining_freshness", Some(2)),
            ("serves_newest_binary", Some(3)),
            ("lineage_completeness", Some(1)),
            ("dataset_ownership", None),
            ("training_reliability", Some(3)),
            ("domain:model_quality", Some(2)),
            ("domain:data_governance", Some(1)),
            ("domain:ownership", Some(1)),
            ("overall", Some(1)),
        ],
    );
    let freshness = m4
        .metrics
        .iter()
        .find(|m| m.metric == "retraining_freshness")
        .unwrap();
    assert!(
        freshness
            .lift
            .as_deref()
            .unwrap()
            .starts_with("at most 30 (days since the run that produced it) reaches level 3")
    );
    assert_eq!(freshness.evidence["judged_on"], "newest_binary");
    assert_eq!(
        freshness.evidence["catalog_version"],
        serde_json::json!(catalog.version)
    );

    let overall = |card: &modelgov::model::metrics::Scorecard, scope: &str| {
        card.rollups
            .iter()
            .find(|r| r.scope == scope)
            .unwrap()
            .clone()
    };
    let team_a = reads::scorecard(
        &pool,
        &snapshot,
        reads::unit(&pool, Some(&hr("a"))).await.unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        overall(&team_a, "overall").counts,
        Counts {
            levels: [0, 1, 0, 1],
            unknown: 0,
            exempt: 0,
        }
    );
    assert_eq!(overall(&team_a, "overall").score, Some(2.0));
    let team_b = reads::scorecard(
        &pool,
        &snapshot,
        reads::unit(&pool, Some(&hr("b"))).await.unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        overall(&team_b, "overall").counts,
        Counts {
            levels: [1, 0, 0, 0],
            unknown: 0,
            exempt: 0,
        }
    );
    let corp = reads::scorecard(&pool, &snapshot, reads::unit(&pool, None).await.unwrap())
        .await
        .unwrap();
    assert_eq!(corp.unit.name, "Corp");
    assert_eq!(
        overall(&corp, "overall").counts,
        Counts {
            levels: [2, 1, 0, 1],
            unknown: 0,
            exempt: 0,
        },
        "the unowned m3 counts at the top"
    );
    assert_eq!(overall(&corp, "overall").score, Some(1.0));
    assert_eq!(
        overall(&corp, "domain:efficiency").counts,
        Counts {
            levels: [0, 0, 0, 1],
            unknown: 3,
            exempt: 0,
        }
    );
    assert_eq!(
        overall(&corp, "domain:efficiency").score,
        Some(3.0),
        "unknown is never failing"
    );

    let children = reads::children(&pool, &snapshot, corp.unit.id, "overall")
        .await
        .unwrap();
    assert_eq!(
        children
            .iter()
            .map(|c| c.unit.name.as_str())
            .collect::<Vec<_>>(),
        ["Team B", "Team A"],
        "the lowest score first"
    );
    let worst = reads::worst_models(&pool, &snapshot, corp.unit.id, "overall", None, 10, 0)
        .await
        .unwrap();
    assert_eq!(worst[0].level, Level::new(0));
    assert_eq!(
        worst.len(),
        4,
        "the company lists every model its rollup counts, the unowned one too"
    );
    assert!(worst.iter().any(|m| m.model == x("m3")));
    // Pages of the same order.
    let second = reads::worst_models(&pool, &snapshot, corp.unit.id, "overall", None, 2, 2)
        .await
        .unwrap();
    assert_eq!(second, worst[2..]);
    // Under one domain, only its metrics count as "metrics at risk".
    let ownership = reads::worst_models(
        &pool,
        &snapshot,
        corp.unit.id,
        "domain:ownership",
        None,
        10,
        0,
    )
    .await
    .unwrap();
    let m3 = ownership.iter().find(|m| m.model == x("m3")).unwrap();
    assert!(m3.at_risk_metrics <= 3, "{m3:?}");
    let all = worst.iter().find(|m| m.model == x("m3")).unwrap();
    assert!(all.at_risk_metrics > m3.at_risk_metrics, "{all:?} {m3:?}");
    let unowned: (i32,) =
        sqlx::query_as("SELECT level0[array_position(s.scopes, 'overall')] FROM unit_rollups r JOIN metric_snapshots s ON s.id = r.snapshot_id WHERE unit_id = 0")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(unowned.0, 1);
}

#[sqlx::test]
async fn snapshots_answer_as_of_their_time(pool: PgPool) {
    ingest(&pool, &hand_built_org()).await;
    let catalog = catalog::load(None).unwrap();
    let first = metrics::recompute(&pool, &catalog).await.unwrap();
    // m3 gets an owner and a description between the two snapshots.
    ingest(
        &pool,
        &[asset(
            "m3",
            "model_source",
            r#","owner":{"source":"hr","id":"b"},"owners":["z@x"]"#,
        )],
    )
    .await;
    let second = metrics::recompute(&pool, &catalog).await.unwrap();
    assert!(second.computed_at >= first.computed_at);

    let then = reads::snapshot(&pool, Some(first.computed_at))
        .await
        .unwrap();
    assert_eq!(then.meta.id, first.snapshot_id);
    let now = reads::snapshot(&pool, None).await.unwrap();
    assert_eq!(now.meta.id, second.snapshot_id);
    let before = reads::model_metrics(&pool, &then, &x("m3")).await.unwrap();
    let after = reads::model_metrics(&pool, &now, &x("m3")).await.unwrap();
    let owning = |m: &modelgov::model::metrics::ModelMetrics| {
        m.metrics
            .iter()
            .find(|r| r.metric == "owning_team")
            .unwrap()
            .level
    };
    assert_eq!(
        (owning(&before), owning(&after)),
        (Level::new(0), Level::new(3))
    );
    let too_early = reads::snapshot(&pool, Some(first.computed_at - Duration::days(1))).await;
    assert!(too_early.is_err());
}

/// A `model_results` row: owner, metric levels, domain levels, overall level.
type ResultRow = (Option<i64>, Vec<Option<i16>>, Vec<Option<i16>>, Option<i16>);

#[sqlx::test]
async fn rollups_equal_their_own_models_plus_their_children_on_generated_companies(pool: PgPool) {
    let catalog = catalog::load(None).unwrap();
    for seed in [1, 2, 3] {
        sqlx::query("TRUNCATE metric_snapshots, changes, measurements, serving_periods, edges, quarantine, assets, org_units CASCADE")
            .execute(&pool)
            .await
            .unwrap();
        let size = DemoSize {
            model_sources: 25 + 10 * u32::try_from(seed).unwrap(),
            seed,
            now: Utc::now(),
            batch: 1_000,
        };
        demo::load(&pool, size).await.unwrap();
        let done = metrics::recompute(&pool, &catalog).await.unwrap();
        let snapshot = reads::snapshot(&pool, None).await.unwrap();
        let scopes = catalog.scopes();

        // Each model's domain and overall levels agree with the pure aggregation rules.
        let rows: Vec<ResultRow> = sqlx::query_as(
            "SELECT owner_unit_id, metric_levels, domain_levels, overall_level FROM model_results WHERE snapshot_id = $1",
        )
        .bind(done.snapshot_id)
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut own: HashMap<(i64, String), Counts> = HashMap::new();
        for (owner, metric_levels, domain_levels, overall) in &rows {
            for (d, domain) in catalog.domains.iter().enumerate() {
                let inputs: Vec<_> = catalog
                    .metrics
                    .iter()
                    .zip(metric_levels)
                    .filter(|(m, _)| m.domain == domain.id)
                    .map(|(m, l)| (reads::level(*l), m.weight))
                    .collect();
                assert_eq!(
                    reads::level(domain_levels[d]),
                    aggregate(domain.rule, &inputs),
                    "seed {seed}, {}",
                    domain.id
                );
            }
            let inputs: Vec<_> = catalog
                .domains
                .iter()
                .zip(domain_levels)
                .map(|(d, l)| (reads::level(*l), d.weight))
                .collect();
            assert_eq!(
                reads::level(*overall),
                aggregate(catalog.overall_rule, &inputs),
                "seed {seed}, overall"
            );
            let all: Vec<Option<i16>> = metric_levels
                .iter()
                .chain(domain_levels)
                .copied()
                .chain([*overall])
                .collect();
            for (scope, level) in scopes.iter().zip(all) {
                own.entry((owner.unwrap_or(0), scope.clone()))
                    .or_default()
                    .add(reads::level(level));
            }
        }

        // Every unit's counts are its own models' plus its children's (the top also the unowned).
        let units: Vec<(i64, Option<i64>)> = sqlx::query_as("SELECT id, parent_id FROM org_units")
            .fetch_all(&pool)
            .await
            .unwrap();
        let rollups: Vec<(i64, String, i32, i32, i32, i32, i32)> = sqlx::query_as(
            "SELECT unit_id, x.scope, x.level0, x.level1, x.level2, x.level3, x.unknown \
             FROM unit_rollups r JOIN metric_snapshots s ON s.id = r.snapshot_id, \
                  unnest(s.scopes, r.level0, r.level1, r.level2, r.level3, r.unknown) AS x(scope, level0, level1, level2, level3, unknown) \
             WHERE snapshot_id = $1",
        )
        .bind(snapshot.meta.id)
        .fetch_all(&pool)
        .await
        .unwrap();
        let rolled: HashMap<(i64, String), Counts> = rollups
            .into_iter()
            .map(|(unit, scope, l0, l1, l2, l3, unknown)| {
                (
                    (unit, scope),
                    Counts {
                        levels: [l0, l1, l2, l3].map(i64::from),
                        unknown: i64::from(unknown),
                        exempt: 0,
                    },
                )
            })
            .collect();
        let get = |unit: i64, scope: &str| {
            rolled
                .get(&(unit, scope.to_string()))
                .copied()
                .unwrap_or_default()
        };
        for (unit, parent) in &units {
            for scope in &scopes {
                let mut expected = own
                    .get(&(*unit, scope.clone()))
                    .copied()
                    .unwrap_or_default();
                for (child, _) in units.iter().filter(|(_, p)| p == &Some(*unit)) {
                    expected.merge(&get(*child, scope));
                }
                if parent.is_none() {
                    expected.merge(&own.get(&(0, scope.clone())).copied().unwrap_or_default());
                }
                assert_eq!(
                    get(*unit, scope),
                    expected,
                    "seed {seed}, unit {unit}, {scope}"
                );
            }
        }
        let top = units.iter().find(|(_, p)| p.is_none()).unwrap().0;
        assert_eq!(
            get(top, "overall").total(),
            i64::try_from(rows.len()).unwrap(),
            "every model counts at the top once"
        );
    }
}

#[sqlx::test]
async fn old_snapshots_thin_out_to_one_a_day(pool: PgPool) {
    let catalog = catalog::load(None).unwrap();
    for hours in [130, 126, 100, 30, 1] {
        sqlx::query("INSERT INTO metric_snapshots (computed_at, catalog_version, catalog, scopes) VALUES (date_trunc('day', now()) - make_interval(hours => $1), 'v', '{}', '{}')")
            .bind(hours)
            .execute(&pool)
            .await
            .unwrap();
    }
    metrics::recompute(&pool, &catalog).await.unwrap();
    let kept: Vec<i32> = sqlx::query_scalar(
        "SELECT (extract(epoch FROM date_trunc('day', now()) - computed_at) / 3600)::int FROM metric_snapshots WHERE catalog_version = 'v' ORDER BY computed_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    // 130 h and 126 h before today fall on one day (the later stays), 100 h on a day of its own;
    // the last two days keep everything.
    assert_eq!(kept, [126, 100, 30, 1]);
}

#[sqlx::test]
async fn results_are_stale_until_recomputed_and_again_after_a_write(pool: PgPool) {
    let catalog = catalog::load(None).unwrap();
    assert!(
        metrics::is_stale(&pool, &catalog).await.unwrap(),
        "no snapshot yet"
    );
    ingest(&pool, &hand_built_org()).await;
    metrics::recompute(&pool, &catalog).await.unwrap();
    assert!(!metrics::is_stale(&pool, &catalog).await.unwrap());
    ingest(&pool, &[measure("x:b1", "fairness_gap", 0.2, 1)]).await;
    assert!(
        metrics::is_stale(&pool, &catalog).await.unwrap(),
        "a write since the snapshot"
    );
    metrics::recompute(&pool, &catalog).await.unwrap();
    let mut changed = catalog.clone();
    changed.version = "another".into();
    assert!(
        metrics::is_stale(&pool, &changed).await.unwrap(),
        "another catalog"
    );
}

/// The catalog's own words, one case each: a failed run that produced the judged binary still
/// dates it; a name listed twice is one owner; a unit with no model at or below it has its
/// rollup row, all zeros and no score.
#[sqlx::test]
async fn levels_follow_the_catalogs_text_in_the_edge_cases(pool: PgPool) {
    let owned_by = |unit: &str| format!(r#","owner":{{"source":"hr","id":"{unit}"}}"#);
    ingest(
        &pool,
        &[
            r#"{"type":"org_unit","source":"hr","id":"corp","name":"Corp"}"#.into(),
            r#"{"type":"org_unit","source":"hr","id":"a","name":"Team A","parent":{"source":"hr","id":"corp"}}"#.into(),
            r#"{"type":"org_unit","source":"hr","id":"empty","name":"Nobody's team","parent":{"source":"hr","id":"corp"}}"#.into(),
            asset(
                "m",
                "model_source",
                &format!(r#"{},"owners":["ana@x","Ana@x "," ana@x"]"#, owned_by("a")),
            ),
            run("rf", "failed", 10),
            asset("bf", "model_binary", ""),
            asset("pf", "deployment", r#","status":"production""#),
            edge("x:m", "ci:rf"),
            edge("ci:rf", "x:bf"),
            edge("x:bf", "x:pf"),
        ],
    )
    .await;
    let catalog = catalog::load(None).unwrap();
    metrics::recompute(&pool, &catalog).await.unwrap();
    let snapshot = reads::snapshot(&pool, None).await.unwrap();
    let m = reads::model_metrics(&pool, &snapshot, &x("m"))
        .await
        .unwrap();
    let value = |metric: &str| {
        m.metrics
            .iter()
            .find(|r| r.metric == metric)
            .and_then(|r| r.value)
    };
    // "unknown when the judged binary has no workflow run that produced it, or that run has no
    // end time": this run failed, ended 10 days ago, and produced the binary in production.
    check(&levels(&m), &[("retraining_freshness", Some(3))]);
    assert!((value("retraining_freshness").unwrap() - 10.0).abs() < 0.01);
    // "distinct named owners (the same name twice, in any letter case, counts once)".
    assert_eq!(value("named_owners"), Some(1.0));
    check(&levels(&m), &[("named_owners", Some(1))]);

    // "one row per unit and scope (zero counts, no score)", DESIGN.md section 8.
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM unit_rollups r JOIN org_units u ON u.id = r.unit_id
         WHERE r.snapshot_id = $1 AND u.external_id = 'empty'",
    )
    .bind(snapshot.meta.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(rows, 1, "the empty unit has its row");
    let empty = reads::scorecard(
        &pool,
        &snapshot,
        reads::unit(&pool, Some(&hr("empty"))).await.unwrap(),
    )
    .await
    .unwrap();
    assert!(
        empty
            .rollups
            .iter()
            .all(|r| r.counts == Counts::default() && r.score.is_none())
    );
}
