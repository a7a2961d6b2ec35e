//! Postgres-backed tests: each runs against its own fresh database with the migrations applied.

use chrono::Utc;
use modelgov::model::graph::Direction;
use modelgov::model::record::{Outcome, RecordResult, Ref};
use modelgov::server::demo::{self, DemoSize};
use modelgov::server::ingest::{apply::apply, parse};
use modelgov::server::repo::{self, reads};
use sqlx::PgPool;

/// Writes an NDJSON body as the API would, as the token `test`.
async fn ingest(pool: &PgPool, lines: &[&str]) -> Vec<RecordResult> {
    let body = lines.join("\n");
    let items = parse::ndjson(body.as_bytes(), usize::MAX).unwrap();
    apply(pool, "token:test", &items).await.unwrap()
}

fn statuses(results: &[RecordResult]) -> Vec<Outcome> {
    results.iter().map(|r| r.status).collect()
}

fn error(results: &[RecordResult], index: usize) -> &str {
    results[index].error.as_deref().unwrap_or_default()
}

fn asset(source: &str, id: &str, kind: &str) -> String {
    format!(r#"{{"type":"asset","source":"{source}","id":"{id}","kind":"{kind}","name":"{id}"}}"#)
}

fn edge(from: (&str, &str), to: (&str, &str)) -> String {
    format!(
        r#"{{"type":"edge","from":{{"source":"{}","id":"{}"}},"to":{{"source":"{}","id":"{}"}}}}"#,
        from.0, from.1, to.0, to.1
    )
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

fn r(source: &str, id: &str) -> Ref {
    Ref {
        source: source.into(),
        id: id.into(),
    }
}

#[sqlx::test(fixtures("small_tree"))]
async fn tree_is_depth_first_with_sorted_siblings_and_subtree_counts(pool: PgPool) {
    let units = repo::org_units::list(&pool).await.unwrap();
    let rows: Vec<(&str, i32, i64, i64)> = units
        .iter()
        .map(|u| (u.unit.name.as_str(), u.depth, u.children, u.model_sources))
        .collect();
    assert_eq!(
        rows,
        [
            ("Corp", 0, 2, 5),
            ("Alpha org", 1, 0, 1),
            ("Beta org", 1, 2, 4),
            ("Alpha team", 2, 0, 1),
            ("Zeta team", 2, 0, 2),
        ]
    );
    let zeta = units.iter().find(|u| u.unit.name == "Zeta team").unwrap();
    assert_eq!(zeta.ancestors, ["Corp", "Beta org"]);
    assert_eq!(zeta.path(), "Corp › Beta org › Zeta team");
}

#[sqlx::test]
async fn an_empty_database_lists_no_units(pool: PgPool) {
    assert!(repo::org_units::list(&pool).await.unwrap().is_empty());
}

#[sqlx::test(fixtures("small_tree"))]
async fn the_external_key_is_unique(pool: PgPool) {
    let error = sqlx::query(
        "INSERT INTO org_units (source, external_id, name) VALUES ('hr', 'corp', 'Again')",
    )
    .execute(&pool)
    .await
    .unwrap_err();
    let constraint = error.as_database_error().and_then(|e| e.constraint());
    assert_eq!(constraint, Some("org_units_external_key"));
}

#[sqlx::test]
async fn demo_data_loads_once_and_a_second_load_changes_nothing(pool: PgPool) {
    let size = DemoSize {
        model_sources: 30,
        seed: 7,
        now: Utc::now(),
        batch: 500,
    };
    let first = demo::load(&pool, size).await.unwrap();
    assert_eq!(
        first.by_outcome.get("rejected"),
        None,
        "{:?}",
        first.by_outcome
    );
    assert!(first.by_outcome["created"] > 1_000);
    let changes = count(&pool, "SELECT count(*) FROM changes").await;
    let units = repo::org_units::list(&pool).await.unwrap();

    let second = demo::load(&pool, size).await.unwrap();
    assert_eq!(
        second.by_outcome.get("created"),
        None,
        "{:?}",
        second.by_outcome
    );
    assert_eq!(
        second.by_outcome.get("updated"),
        None,
        "{:?}",
        second.by_outcome
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM changes").await,
        changes,
        "a replay records no history"
    );
    assert_eq!(repo::org_units::list(&pool).await.unwrap(), units);

    assert_eq!((units[0].unit.name.as_str(), units[0].depth), ("Acme", 0));
    assert!(
        units.iter().any(|u| u.depth >= 3),
        "the demo tree is several levels deep"
    );
    for kind in [
        "feature_source",
        "logical_feature",
        "dataset",
        "model_source",
        "workflow_run",
        "model_binary",
        "deployment",
    ] {
        let n = count(
            &pool,
            &format!("SELECT count(*) FROM assets WHERE kind = '{kind}'"),
        )
        .await;
        assert!(n > 0, "the demo has {kind}s");
    }
    for status in ["development", "staging", "production"] {
        let n = count(
            &pool,
            &format!("SELECT count(*) FROM assets WHERE status = '{status}'"),
        )
        .await;
        assert!(n > 0, "the demo has {status} deployments");
    }
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM assets WHERE kind = 'model_source' AND owner_unit_id IS NULL"
        )
        .await
            > 0
    );
    assert!(
        count(&pool, "SELECT count(*) FROM quarantine").await > 0,
        "some labels have no mapping yet"
    );
    assert!(count(&pool, "SELECT count(*) FROM measurements").await > 0);
    assert_eq!(
        units[0].model_sources,
        count(
            &pool,
            "SELECT count(*) FROM assets WHERE kind = 'model_source' AND owner_unit_id IS NOT NULL"
        )
        .await
    );
}

#[sqlx::test]
async fn a_logical_feature_has_exactly_one_feature_source(pool: PgPool) {
    let results = ingest(
        &pool,
        &[
            &asset("hive", "clicks", "feature_source"),
            &asset("hive", "views", "feature_source"),
            &asset("feast", "ctr", "logical_feature"),
            &edge(("hive", "clicks"), ("feast", "ctr")),
            &edge(("hive", "views"), ("feast", "ctr")),
        ],
    )
    .await;
    assert_eq!(statuses(&results)[3], Outcome::Created);
    assert_eq!(results[4].status, Outcome::Rejected);
    assert!(error(&results, 4).starts_with("cardinality rule: the logical feature feast/ctr already has its feature source hive/clicks"), "{}", error(&results, 4));
    // Later, in another request, too.
    let again = ingest(&pool, &[&edge(("hive", "views"), ("feast", "ctr"))]).await;
    assert_eq!(again[0].status, Outcome::Rejected);
    assert_eq!(count(&pool, "SELECT count(*) FROM edges").await, 1);
}

#[sqlx::test]
async fn features_datasets_and_runs_connect_many_to_many(pool: PgPool) {
    let results = ingest(
        &pool,
        &[
            &asset("feast", "f1", "logical_feature"),
            &asset("feast", "f2", "logical_feature"),
            &asset("feast", "d1", "dataset"),
            &asset("feast", "d2", "dataset"),
            &asset("airflow", "r1", "workflow_run"),
            &asset("airflow", "r2", "workflow_run"),
            &edge(("feast", "f1"), ("feast", "d1")),
            &edge(("feast", "f2"), ("feast", "d1")),
            &edge(("feast", "f1"), ("feast", "d2")),
            &edge(("feast", "d1"), ("airflow", "r1")),
            &edge(("feast", "d2"), ("airflow", "r1")),
            &edge(("feast", "d1"), ("airflow", "r2")),
        ],
    )
    .await;
    assert!(
        statuses(&results).iter().all(|s| *s == Outcome::Created),
        "{results:?}"
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM edges").await, 6);
}

#[sqlx::test]
async fn a_run_executes_exactly_one_model_source(pool: PgPool) {
    let results = ingest(
        &pool,
        &[
            &asset("git", "a", "model_source"),
            &asset("git", "b", "model_source"),
            &asset("airflow", "r", "workflow_run"),
            &edge(("git", "a"), ("airflow", "r")),
            &edge(("git", "b"), ("airflow", "r")),
            &edge(("git", "a"), ("airflow", "r")),
        ],
    )
    .await;
    assert_eq!(
        statuses(&results)[3..],
        [Outcome::Created, Outcome::Rejected, Outcome::Created]
    );
    assert!(
        error(&results, 4).contains("a workflow run has exactly one"),
        "{}",
        error(&results, 4)
    );
}

#[sqlx::test]
async fn a_binary_is_produced_by_exactly_one_run(pool: PgPool) {
    let results = ingest(
        &pool,
        &[
            &asset("airflow", "r1", "workflow_run"),
            &asset("airflow", "r2", "workflow_run"),
            &asset("mlflow", "m/1", "model_binary"),
            &edge(("airflow", "r1"), ("mlflow", "m/1")),
            &edge(("airflow", "r2"), ("mlflow", "m/1")),
        ],
    )
    .await;
    assert_eq!(
        statuses(&results)[3..],
        [Outcome::Created, Outcome::Rejected]
    );
    assert!(error(&results, 4).contains("a model binary has exactly one"));
}

#[sqlx::test]
async fn a_deployment_serves_one_binary_at_a_time_and_keeps_what_it_served(pool: PgPool) {
    let results = ingest(&pool, &[
        &asset("mlflow", "m/1", "model_binary"),
        &asset("mlflow", "m/2", "model_binary"),
        r#"{"type":"asset","source":"k8s","id":"prod","kind":"deployment","name":"prod","status":"production"}"#,
        &edge(("mlflow", "m/1"), ("k8s", "prod")),
    ]).await;
    assert!(
        statuses(&results).iter().all(|s| *s == Outcome::Created),
        "{results:?}"
    );
    let between: chrono::DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(&pool)
        .await
        .unwrap();

    let replaced = ingest(&pool, &[&edge(("mlflow", "m/2"), ("k8s", "prod"))]).await;
    assert_eq!(
        replaced[0].status,
        Outcome::Updated,
        "an edge into a deployment replaces its binary"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM edges WHERE to_kind = 'deployment'"
        )
        .await,
        1
    );
    let replay = ingest(&pool, &[&edge(("mlflow", "m/2"), ("k8s", "prod"))]).await;
    assert_eq!(replay[0].status, Outcome::Unchanged);

    let then = reads::serving_as_of(&pool, &r("k8s", "prod"), between)
        .await
        .unwrap();
    assert_eq!(then.serving.len(), 1);
    assert_eq!(then.serving[0].binary, r("mlflow", "m/1"));
    assert_eq!(then.serving[0].status.as_deref(), Some("production"));
    let now = reads::serving_as_of(&pool, &r("k8s", "prod"), Utc::now())
        .await
        .unwrap();
    assert_eq!(now.serving[0].binary, r("mlflow", "m/2"));
    let before = reads::serving_as_of(
        &pool,
        &r("k8s", "prod"),
        between - chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    assert!(
        before.serving.is_empty(),
        "nothing was served before it existed"
    );

    let history = reads::history(&pool, &r("k8s", "prod"), 50, None)
        .await
        .unwrap();
    let edge_change = history
        .changes
        .iter()
        .find(|c| c.subject == "edge" && c.op == "updated")
        .unwrap();
    assert_eq!(edge_change.actor, "token:test");
    assert_ne!(
        edge_change.before.as_ref().unwrap()["from_id"],
        edge_change.after.as_ref().unwrap()["from_id"]
    );
}

#[sqlx::test]
async fn kind_rules_refuse_edges_and_kind_changes(pool: PgPool) {
    let results = ingest(&pool, &[
        &asset("feast", "d", "dataset"),
        &asset("mlflow", "b", "model_binary"),
        &edge(("feast", "d"), ("mlflow", "b")),
        &asset("feast", "d", "model_source"),
        r#"{"type":"asset","source":"git","id":"s","kind":"model_source","name":"s","status":"production"}"#,
        r#"{"type":"asset","source":"k8s","id":"p","kind":"deployment","name":"p","status":"live"}"#,
        r#"{"type":"asset","source":"git","id":"t","kind":"model_source","name":"t","started_at":"2026-01-01T00:00:00Z"}"#,
    ]).await;
    assert_eq!(results[2].status, Outcome::Rejected);
    assert!(
        error(&results, 2)
            .starts_with("kind rule: an edge from a dataset may lead only to a workflow run")
    );
    assert!(
        error(&results, 3).contains("kind rule: feast/d is a dataset"),
        "{}",
        error(&results, 3)
    );
    assert!(error(&results, 4).contains("a model source has no status"));
    assert!(error(&results, 5).contains("not one of a deployment's"));
    assert!(error(&results, 6).contains("belong to workflow runs"));
    assert_eq!(count(&pool, "SELECT count(*) FROM assets").await, 2);
    assert_eq!(count(&pool, "SELECT count(*) FROM edges").await, 0);
}

#[sqlx::test]
async fn references_must_exist_in_the_database_or_the_batch(pool: PgPool) {
    let results = ingest(&pool, &[
        &edge(("git", "nope"), ("airflow", "r")),
        r#"{"type":"asset","source":"git","id":"m","kind":"model_source","name":"m","owner":{"source":"hr","id":"ghost"}}"#,
        r#"{"type":"org_unit","source":"hr","id":"t","name":"Team","parent":{"source":"hr","id":"ghost"}}"#,
        r#"{"type":"org_unit","source":"hr","id":"u","name":"Under","parent":{"source":"hr","id":"t"}}"#,
        r#"{"type":"measurement","asset":{"source":"git","id":"nope"},"name":"x","value":1,"at":"2026-01-01T00:00:00Z"}"#,
    ]).await;
    assert!(
        statuses(&results).iter().all(|s| *s == Outcome::Rejected),
        "{results:?}"
    );
    assert!(error(&results, 0).contains("the asset git/nope does not exist"));
    assert!(error(&results, 1).contains("owning org unit hr/ghost does not exist"));
    assert!(error(&results, 2).contains("parent org unit hr/ghost does not exist"));
    assert!(
        error(&results, 3).contains("parent org unit hr/t does not exist"),
        "a parent refused in the batch is missing too"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM assets").await
            + count(&pool, "SELECT count(*) FROM org_units").await,
        0
    );
}

#[sqlx::test]
async fn the_org_tree_never_becomes_a_cycle(pool: PgPool) {
    ingest(&pool, &[
        r#"{"type":"org_unit","source":"hr","id":"a","name":"A"}"#,
        r#"{"type":"org_unit","source":"hr","id":"b","name":"B","parent":{"source":"hr","id":"a"}}"#,
        r#"{"type":"org_unit","source":"hr","id":"c","name":"C","parent":{"source":"hr","id":"b"}}"#,
    ]).await;
    let results = ingest(&pool, &[
        r#"{"type":"org_unit","source":"hr","id":"a","name":"A","parent":{"source":"hr","id":"c"}}"#,
        r#"{"type":"org_unit","source":"hr","id":"d","name":"D","parent":{"source":"hr","id":"d"}}"#,
    ]).await;
    assert!(
        error(&results, 0).starts_with("org tree rule: hr/a cannot sit below hr/c"),
        "{}",
        error(&results, 0)
    );
    assert!(error(&results, 1).contains("cannot be its own parent"));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM org_units WHERE parent_id IS NULL"
        )
        .await,
        1
    );
}

fn a_whole_lineage() -> Vec<String> {
    vec![
        r#"{"type":"org_unit","source":"hr","id":"acme","name":"Acme"}"#.into(),
        r#"{"type":"org_unit","source":"hr","id":"feed","name":"Feed","parent":{"source":"hr","id":"acme"}}"#.into(),
        asset("hive", "clicks", "feature_source"),
        asset("feast", "ctr", "logical_feature"),
        asset("feast", "train", "dataset"),
        r#"{"type":"asset","source":"git","id":"ranker","kind":"model_source","name":"Ranker","owner":{"source":"hr","id":"feed"},"owners":["ana@example.com"],"tags":{"tier":"1"}}"#.into(),
        r#"{"type":"asset","source":"airflow","id":"run-1","kind":"workflow_run","name":"run","status":"succeeded","started_at":"2026-10-01T02:00:00Z","ended_at":"2026-10-01T03:10:00Z"}"#.into(),
        r#"{"type":"asset","source":"mlflow","id":"ranker/1","label":"Model Version","name":"ranker v1"}"#.into(),
        r#"{"type":"asset","source":"deploy","id":"prod","kind":"deployment","name":"prod","status":"production"}"#.into(),
        edge(("hive", "clicks"), ("feast", "ctr")),
        edge(("feast", "ctr"), ("feast", "train")),
        edge(("feast", "train"), ("airflow", "run-1")),
        edge(("git", "ranker"), ("airflow", "run-1")),
        edge(("airflow", "run-1"), ("mlflow", "ranker/1")),
        edge(("mlflow", "ranker/1"), ("deploy", "prod")),
        r#"{"type":"measurement","asset":{"source":"mlflow","id":"ranker/1"},"name":"fairness_gap","value":0.031,"at":"2026-10-02T00:00:00Z"}"#.into(),
    ]
}

async fn graph_snapshot(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT concat_ws(' ', f.source, f.external_id, f.kind, t.source, t.external_id) FROM edges e \
         JOIN assets f ON f.id = e.from_id JOIN assets t ON t.id = e.to_id \
         UNION ALL SELECT concat_ws(' ', source, external_id, kind, name, status, owners::text, tags::text) FROM assets \
         UNION ALL SELECT concat_ws(' ', u.external_id, p.external_id) FROM org_units u LEFT JOIN org_units p ON p.id = u.parent_id \
         UNION ALL SELECT concat_ws(' ', name, value, at) FROM measurements ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_whole_batch_replayed_changes_nothing(pool: PgPool) {
    let lines = a_whole_lineage();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let first = ingest(&pool, &lines).await;
    assert!(
        statuses(&first).iter().all(|s| *s == Outcome::Created),
        "{first:?}"
    );
    let graph = graph_snapshot(&pool).await;
    let changes = count(&pool, "SELECT count(*) FROM changes").await;
    let replay = ingest(&pool, &lines).await;
    assert!(
        statuses(&replay).iter().all(|s| *s == Outcome::Unchanged),
        "{replay:?}"
    );
    assert_eq!(graph_snapshot(&pool).await, graph);
    assert_eq!(count(&pool, "SELECT count(*) FROM changes").await, changes);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM assets WHERE external_id = 'ranker/1' AND kind = 'model_binary' AND label = 'Model Version'").await,
        1,
        "the label was mapped and kept"
    );
}

#[sqlx::test]
async fn records_may_come_in_any_order_within_a_batch(pool: PgPool) {
    let mut lines = a_whole_lineage();
    lines.reverse();
    let reversed: Vec<&str> = lines.iter().map(String::as_str).collect();
    let results = ingest(&pool, &reversed).await;
    assert!(
        statuses(&results).iter().all(|s| *s == Outcome::Created),
        "{results:?}"
    );
    let reversed_graph = graph_snapshot(&pool).await;

    sqlx::query(
        "TRUNCATE changes, measurements, serving_periods, edges, assets, org_units CASCADE",
    )
    .execute(&pool)
    .await
    .unwrap();
    let lines = a_whole_lineage();
    // A fixed shuffle: every third record first, then the rest.
    let firsts = lines.iter().skip(2).step_by(3).cloned();
    let rest = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 2)
        .map(|(_, l)| l.clone());
    let shuffled: Vec<String> = firsts.chain(rest).collect();
    let shuffled: Vec<&str> = shuffled.iter().map(String::as_str).collect();
    ingest(&pool, &shuffled).await;
    assert_eq!(graph_snapshot(&pool).await, reversed_graph);
}

#[sqlx::test]
async fn changes_keep_who_when_before_and_after(pool: PgPool) {
    ingest(&pool, &[&asset("git", "m", "model_source")]).await;
    let results = ingest(&pool, &[r#"{"type":"asset","source":"git","id":"m","kind":"model_source","name":"Renamed","description":"now documented"}"#]).await;
    assert_eq!(results[0].status, Outcome::Updated);
    let history = reads::history(&pool, &r("git", "m"), 10, None)
        .await
        .unwrap();
    assert_eq!(history.changes.len(), 2);
    let update = &history.changes[0];
    assert_eq!(
        (update.op.as_str(), update.actor.as_str()),
        ("updated", "token:test")
    );
    assert_eq!(update.before.as_ref().unwrap()["name"], "m");
    assert_eq!(update.after.as_ref().unwrap()["name"], "Renamed");
    assert_eq!(
        update.after.as_ref().unwrap()["description"],
        "now documented"
    );
    // A later record without a description keeps it.
    ingest(
        &pool,
        &[r#"{"type":"asset","source":"git","id":"m","kind":"model_source","name":"Renamed"}"#],
    )
    .await;
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM assets WHERE description = 'now documented'"
        )
        .await,
        1
    );
}

#[sqlx::test]
async fn unmapped_labels_wait_in_quarantine(pool: PgPool) {
    let results = ingest(&pool, &[
        r#"{"type":"asset","source":"vertex","id":"ep","label":"Endpoint","name":"ep"}"#,
        r#"{"type":"asset","source":"sagemaker","id":"ep","label":"Endpoint","name":"ep","status":"staging"}"#,
    ]).await;
    assert_eq!(statuses(&results), [Outcome::Quarantined, Outcome::Created]);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM quarantine WHERE source = 'vertex' AND label = 'Endpoint'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM assets WHERE kind = 'deployment'"
        )
        .await,
        1
    );
}

#[sqlx::test]
async fn lineage_walks_are_bounded_and_say_when_they_were_cut(pool: PgPool) {
    let lines = a_whole_lineage();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    ingest(&pool, &lines).await;
    let up = reads::lineage(&pool, &r("deploy", "prod"), Direction::Up, 5)
        .await
        .unwrap();
    assert_eq!(
        up.nodes.len(),
        7,
        "deployment, binary, run, model source, dataset, feature, source"
    );
    assert_eq!(up.edges.len(), 6);
    assert!(!up.truncated);
    let near = reads::lineage(&pool, &r("deploy", "prod"), Direction::Up, 1)
        .await
        .unwrap();
    assert_eq!(near.nodes.len(), 2);
    let down = reads::lineage(&pool, &r("feast", "train"), Direction::Both, 3)
        .await
        .unwrap();
    assert!(
        down.nodes
            .iter()
            .any(|n| n.asset.key == r("deploy", "prod") && n.distance == 3)
    );
    assert!(
        down.nodes
            .iter()
            .any(|n| n.asset.key == r("hive", "clicks") && n.distance == -2)
    );

    // A dataset that trains 2,100 runs: more nodes than a walk returns.
    let mut many = vec![asset("feast", "shared", "dataset")];
    for i in 0..2_100 {
        many.push(asset("airflow", &format!("fan-{i}"), "workflow_run"));
        many.push(edge(("feast", "shared"), ("airflow", &format!("fan-{i}"))));
    }
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    ingest(&pool, &many).await;
    let walk = reads::lineage(&pool, &r("feast", "shared"), Direction::Down, 3)
        .await
        .unwrap();
    assert!(walk.truncated);
    assert_eq!(walk.nodes.len(), 2_000);
    assert_eq!(walk.depth, 3);
}

#[sqlx::test]
async fn search_finds_by_name_description_tag_and_kind(pool: PgPool) {
    let lines = a_whole_lineage();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    ingest(&pool, &lines).await;
    let search = |text: &str, kind: Option<&str>, tags: &[&str], limit: i64| {
        let query =
            modelgov::model::params::SearchQuery::parse(text, kind, tags, None, None).unwrap();
        let pool = pool.clone();
        async move { reads::search(&pool, &query, limit).await.unwrap() }
    };
    let page = search("RANK", None, &[], 10).await;
    assert_eq!(
        page.hits[0].asset.key,
        r("git", "ranker"),
        "an exact name comes first"
    );
    assert_eq!(page.hits.len(), 2);
    let page = search("", Some("model_source"), &["tier:1"], 10).await;
    assert_eq!(page.hits.len(), 1);
    assert_eq!(page.hits[0].owner.as_deref(), Some("Feed"));
    let page = search("100%", None, &[], 10).await;
    assert!(page.hits.is_empty(), "% matches literally");
    let first = search("", None, &[], 3).await;
    assert_eq!(first.next_offset, Some(3));
    // Kinds come as a reader looks for them: the model source before its binary and the run.
    let kinds: Vec<&str> = search("r", None, &[], 10)
        .await
        .hits
        .iter()
        .map(|h| h.asset.kind.as_str())
        .collect();
    let position = |kind: &str| kinds.iter().position(|k| *k == kind).unwrap();
    assert!(
        position("model_source") < position("model_binary"),
        "{kinds:?}"
    );
    assert!(
        position("model_binary") < position("workflow_run"),
        "{kinds:?}"
    );
    // Org units are found by name on a text search, with where they sit.
    let page = search("fee", None, &[], 10).await;
    assert_eq!(page.units.len(), 1);
    assert_eq!(page.units[0].unit.name, "Feed");
    assert_eq!(page.units[0].ancestors, ["Acme"]);
    assert!(
        search("fee", Some("dataset"), &[], 10)
            .await
            .units
            .is_empty()
    );
}

/// The write service: a write that lost a race is tried again in a new transaction, a committed
/// write asks for one recompute, and a caller without the role is refused before anything runs.
#[sqlx::test]
async fn the_write_service_retries_a_lost_race_and_asks_for_a_recompute(pool: PgPool) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use modelgov::error::AppError;
    use modelgov::model::role::Role;
    use modelgov::server::auth::Caller;
    use modelgov::server::metrics::{Recomputer, catalog};
    use modelgov::server::repo::tokens::TokenOwner;
    use modelgov::server::service::write::WriteService;

    let catalog = Arc::new(catalog::load(None).unwrap());
    // Recomputes only when asked (the full one is a day away).
    let recomputer = Recomputer::start(
        pool.clone(),
        catalog,
        Duration::from_millis(10),
        Duration::from_hours(24),
    );
    let service = WriteService::new(pool.clone(), recomputer.clone());
    let caller = |role| {
        Caller(TokenOwner {
            id: 1,
            name: "ana".into(),
            role,
        })
    };
    let tries = Arc::new(AtomicUsize::new(0));
    let done: Result<String, AppError> = service
        .run(&caller(Role::Editor), Role::Editor, |conn| {
            let tries = tries.clone();
            Box::pin(async move {
                let actor: String =
                    sqlx::query_scalar("SELECT current_setting('modelgov.actor', true)")
                        .fetch_one(&mut *conn)
                        .await?;
                if tries.fetch_add(1, Ordering::SeqCst) == 0 {
                    // What a deadlock or a key taken at the same moment becomes.
                    return Err(AppError::Conflict(modelgov::server::db::RACE.into()));
                }
                Ok(actor)
            })
        })
        .await;
    assert_eq!(tries.load(Ordering::SeqCst), 2, "tried again once");
    assert_eq!(done.unwrap(), "token:ana", "the history names the caller");
    assert_eq!(recomputer.requested(), 1);

    let refused: Result<(), AppError> = service
        .run(&caller(Role::Viewer), Role::Editor, |_| {
            Box::pin(async { panic!("a viewer's write must not run") })
        })
        .await;
    assert!(
        matches!(refused, Err(AppError::Forbidden(_))),
        "{refused:?}"
    );
    // Another mistake is answered at once, and nothing is asked of the recompute.
    let failed: Result<(), AppError> = service
        .run(&caller(Role::Admin), Role::Editor, |_| {
            Box::pin(async { Err(AppError::BadRequest("no".into())) })
        })
        .await;
    assert!(matches!(failed, Err(AppError::BadRequest(_))));
    assert_eq!(recomputer.requested(), 1);
}
