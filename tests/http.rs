//! HTTP tests: the real router, built from `AppState`, called in-process.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use modelgov::server::{self, config::Config, state::AppState};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tower::ServiceExt;

#[path = "http/access.rs"]
mod access;
#[path = "http/campaigns.rs"]
mod campaigns;
#[path = "http/delivery.rs"]
mod delivery;
#[path = "http/escaping.rs"]
mod escaping;
#[path = "http/governance.rs"]
mod governance;
#[path = "http/mlflow.rs"]
mod mlflow;
#[path = "http/trust.rs"]
mod trust;

fn config() -> Config {
    Config::from_lookup(|name| (name == "DATABASE_URL").then(|| "postgres://unused".into()))
        .unwrap()
}

fn app(pool: PgPool) -> Router {
    server::router(AppState::new(pool, config()).unwrap())
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let mut body = String::from_utf8_lossy(&body).into_owned();
    // Pages carry empty comments where hydration needs a marker between nodes (`<!>`); they are
    // not content, so the assertions read pages without them.
    if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"))
    {
        body = body.replace("<!>", "");
    }
    (status, headers, body)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, http::HeaderMap, String) {
    call(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// The page at `uri` once it shows `text`: kept pages turn over within about a second of a
/// change, so this asks again until it does, for at most a minute (a busy machine is slow, not
/// wrong).
async fn page_showing(app: &Router, uri: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_mins(1);
    // Asked again on every tick of the interval (the first tick is at once), until the deadline.
    let mut ticks = tokio::time::interval(Duration::from_millis(100));
    loop {
        ticks.tick().await;
        let (status, _, body) = get(app, uri).await;
        if status == StatusCode::OK && body.contains(text) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{uri} never showed {text:?}: {status} {body}"
        );
    }
}

/// A pool whose database is not there: nothing listens on the port.
fn unreachable_pool() -> PgPool {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy(&format!("postgres://nobody@127.0.0.1:{port}/none"))
        .unwrap()
}

#[sqlx::test]
async fn health_and_readiness(pool: PgPool) {
    let app = app(pool);
    assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK);
    assert_eq!(get(&app, "/readyz").await.0, StatusCode::OK);
}

#[sqlx::test(fixtures("small_tree"))]
async fn overview_is_rendered_on_the_server_with_escaped_names(pool: PgPool) {
    sqlx::query(
        "UPDATE org_units SET name = '<script>alert(1)</script>' WHERE external_id = 'zeta'",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("UPDATE org_units SET name = 'R&D' WHERE external_id = 'alpha'")
        .execute(&pool)
        .await
        .unwrap();
    let (status, headers, body) = get(&app(pool), "/units").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("All org units"));
    assert!(body.contains("R&amp;D"), "names are escaped");
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !body.contains("<script>alert(1)"),
        "metadata never becomes markup"
    );
    assert_eq!(body.matches(r#"data-testid="unit-row""#).count(), 5);
    // Under pkg/ (pkg/<version>/ once the site was built with one: delivery.rs).
    let bundle = format!(
        "/{}/modelgov.js",
        modelgov::server::state::pkg_dir(&config().site_root)
    );
    assert!(body.contains(&bundle), "the page loads the browser bundle");
}

#[sqlx::test(fixtures("small_tree"))]
async fn the_filter_works_without_javascript(pool: PgPool) {
    let (status, _, body) = get(&app(pool), "/units?q=beta").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.matches(r#"data-testid="unit-row""#).count(), 3);
    assert!(body.contains("Zeta team") && body.contains("Alpha team"));
    assert!(!body.contains(">Alpha org<"));
    assert!(body.contains("Showing 3 of 5 org units"));
}

#[sqlx::test(fixtures("small_tree"))]
async fn server_function_answers_json(pool: PgPool) {
    let request = Request::post("/api/fn/list_org_units")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = call(&app(pool), request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let units: Vec<modelgov::model::OrgUnitSummary> = serde_json::from_str(&body).unwrap();
    assert_eq!(units.len(), 5);
    assert_eq!(units[0].unit.name, "Corp");
}

#[sqlx::test(fixtures("small_tree"))]
async fn dashboard_pages_render_charts_escape_metadata_and_name_bad_filters(pool: PgPool) {
    sqlx::query(
        "UPDATE org_units SET name = '<img src=x onerror=alert(1)>' WHERE external_id = 'zeta'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let catalog = modelgov::server::metrics::catalog::load(None).unwrap();
    modelgov::server::metrics::recompute(&pool, &catalog)
        .await
        .unwrap();
    // An hour old, so that the next snapshot's time differs from it on the page.
    sqlx::query("UPDATE metric_snapshots SET computed_at = computed_at - interval '1 hour'")
        .execute(&pool)
        .await
        .unwrap();
    let app = app(pool.clone());

    // The company page: scorecard, charts with links, children ranked, models.
    let (status, _, body) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<h1>Corp</h1>"), "{body}");
    assert_eq!(
        body.matches(r#"<svg role="group" aria-label="#).count()
            + body.matches(r#"<svg role="img" aria-label="#).count(),
        4,
        "four charts"
    );
    assert!(body.contains(r#"class="chart-link""#));
    assert!(
        body.contains(r#"href="/?level=0#models""#),
        "a bucket drills down"
    );
    assert!(
        body.contains(r#"href="/units/hr/beta?scope=domain%3Afairness#models""#),
        "a heat-map cell drills down"
    );
    assert_eq!(body.matches(r#"data-testid="child-row""#).count(), 2);
    assert!(
        !body.contains("<img src=x"),
        "metadata never becomes markup"
    );

    // An org filtered to a domain and a bucket, with breadcrumbs.
    let (status, _, body) = get(&app, "/units/hr/beta?scope=domain:fairness&level=unknown").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#"<a href="/">Corp</a>"#), "{body}");
    assert!(
        body.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "escaped in tables"
    );
    assert!(!body.contains("<img src=x"), "and in the heat map");

    // A model's page and a metric's page.
    let (status, _, body) = get(&app, "/models/git/m1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#"data-testid="evidence""#));
    let (status, _, body) = get(&app, "/metrics/fairness_gap").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#"data-testid="thresholds""#));

    // Every table has its CSV download (the model page's metric list is one more).
    for uri in [
        "/",
        "/units/hr/beta",
        "/models/git/m1",
        "/metrics/fairness_gap",
        "/units",
        "/ingestion",
    ] {
        let (status, _, body) = get(&app, uri).await;
        let tables = body.matches("<table").count();
        let panel: String = body
            .find(r#"data-testid="error-panel""#)
            .map(|at| body[at..].chars().take(400).collect())
            .unwrap_or_default();
        assert!(tables > 0, "{uri}: {status} {panel}");
        assert!(
            body.matches(r#"data-testid="csv-link""#).count() >= tables,
            "{uri}"
        );
    }

    // Pages are kept per snapshot and graph change: a recompute shows within a second.
    let newer = modelgov::server::metrics::recompute(&pool, &catalog)
        .await
        .unwrap();
    let stamp = modelgov::server::metrics::reads::rfc3339(newer.computed_at);
    let body = page_showing(&app, "/", &format!("<time datetime=\"{stamp}\"")).await;
    assert_eq!(body.matches("<time datetime=").count(), 1);
    // A write to the graph (a unit renamed) shows too, with no new snapshot.
    sqlx::query("UPDATE org_units SET name = 'Beta renamed' WHERE external_id = 'beta'")
        .execute(&pool)
        .await
        .unwrap();
    page_showing(&app, "/", "Beta renamed").await;

    // Bad filters are named; unknown things are 404.
    for (uri, expected, says) in [
        ("/?scope=domain:nope", StatusCode::BAD_REQUEST, "scope"),
        ("/?level=7", StatusCode::BAD_REQUEST, "level must be"),
        ("/?days=3", StatusCode::BAD_REQUEST, "days must be"),
        ("/?as_of=yesterday", StatusCode::BAD_REQUEST, "as_of"),
        ("/units/hr/nobody", StatusCode::NOT_FOUND, "no org unit"),
        ("/models/git/nothing", StatusCode::NOT_FOUND, "nothing"),
        (
            "/metrics/no_such_metric",
            StatusCode::NOT_FOUND,
            "no_such_metric",
        ),
    ] {
        let (status, _, body) = get(&app, uri).await;
        assert_eq!(status, expected, "{uri}: {body}");
        assert!(body.contains(says), "{uri} names the problem: {body}");
    }
}

#[sqlx::test]
async fn unknown_pages_are_404(pool: PgPool) {
    let (status, _, body) = get(&app(pool), "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Nothing here"));
}

#[tokio::test]
async fn without_the_database_answers_are_503_and_quick() {
    let app = app(unreachable_pool());
    for uri in ["/readyz", "/"] {
        let started = Instant::now();
        let (status, headers, body) = get(&app, uri).await;
        let took = started.elapsed();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {body}");
        assert_eq!(headers[header::RETRY_AFTER], "1", "{uri}");
        // Generous bound: the pool gives up after one second; this only catches hanging.
        assert!(took < Duration::from_secs(5), "{uri} took {took:?}");
    }
    let (_, _, body) = get(&app, "/").await;
    assert!(body.contains(r#"data-testid="error-panel""#));
    assert!(body.contains("database is unavailable"));
    let (status, _, _) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK, "the process itself stays healthy");
}

// ---- POST /api/v1/records and the read endpoints ----

async fn token(pool: &PgPool, name: &str, role: modelgov::model::role::Role) -> String {
    modelgov::server::repo::tokens::create(pool, name, role)
        .await
        .unwrap()
}

fn post_records(token: Option<&str>, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::post("/api/v1/records").header(header::CONTENT_TYPE, content_type);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(body.into()).unwrap()
}

async fn asset_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM assets")
        .fetch_one(pool)
        .await
        .unwrap()
}

const ONE_ASSET: &str =
    r#"{"type":"asset","source":"git","id":"m","kind":"model_source","name":"M"}"#;

#[sqlx::test]
async fn writes_need_a_token_with_the_editor_role(pool: PgPool) {
    let app = app(pool.clone());
    let (status, headers, body) =
        call(&app, post_records(None, "application/json", ONE_ASSET)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    assert!(body.contains("Authorization: Bearer"));

    let (status, _, body) = call(
        &app,
        post_records(Some("mgv_not-a-token"), "application/json", ONE_ASSET),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let viewer = token(&pool, "reader", modelgov::model::role::Role::Viewer).await;
    let (status, _, body) = call(
        &app,
        post_records(Some(&viewer), "application/json", ONE_ASSET),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("editor role"), "{body}");
    assert_eq!(asset_count(&pool).await, 0, "refused writes change nothing");

    let editor = token(&pool, "ci", modelgov::model::role::Role::Editor).await;
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/json", ONE_ASSET),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""created":1"#), "{body}");
    assert_eq!(asset_count(&pool).await, 1);

    modelgov::server::repo::tokens::revoke(&pool, "ci")
        .await
        .unwrap();
    let (status, _, _) = call(
        &app,
        post_records(Some(&editor), "application/json", ONE_ASSET),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked token no longer works"
    );
}

#[sqlx::test]
async fn oversized_and_malformed_bodies_are_refused_and_change_nothing(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", modelgov::model::role::Role::Editor).await;

    // Just over 1 MB of JSON: one valid record padded with spaces.
    let big_json = format!("{ONE_ASSET}{}", " ".repeat(1024 * 1024));
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/json", big_json),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("over 1 MB"), "{body}");

    // The same bytes are fine as NDJSON, but not 10 MB of them.
    let line = format!("{ONE_ASSET}\n");
    let big_ndjson = line.repeat(10 * 1024 * 1024 / line.len() + 1);
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/x-ndjson", big_ndjson),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    let (status, _, body) = call(&app, post_records(Some(&editor), "text/plain", ONE_ASSET)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");

    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/json", "{\"type\":"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("not valid JSON"), "{body}");

    let (status, _, body) = call(&app, post_records(Some(&editor), "application/json", "[]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(asset_count(&pool).await, 0);
}

#[sqlx::test]
async fn a_rejected_line_is_named_and_the_others_apply(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", modelgov::model::role::Role::Editor).await;
    let body = format!(
        "{ONE_ASSET}\n{{\"type\":\"asset\",\"source\":\"git\",\"id\":\"x\",\"kind\":\"gizmo\",\"name\":\"X\"}}\nnot json\n{{\"type\":\"asset\",\"source\":\"git\",\"id\":\"y\",\"kind\":\"dataset\",\"name\":17}}\n"
    );
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/x-ndjson", body),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "created");
    assert_eq!(results[1]["line"], 2);
    assert!(
        results[1]["error"]
            .as_str()
            .unwrap()
            .contains("unknown variant `gizmo`")
    );
    assert_eq!(results[2]["line"], 3);
    assert_eq!(results[2]["status"], "rejected");
    assert!(
        results[3]["error"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{body}"
    );
    assert_eq!(answer["summary"]["rejected"], 3);
    assert_eq!(asset_count(&pool).await, 1);
}

#[sqlx::test]
async fn hostile_names_are_stored_as_text_and_never_executed(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", modelgov::model::role::Role::Editor).await;
    let mut name = String::from("<img src=x onerror=alert(1)>'); DROP TABLE assets; -- [31m\"");
    name.push_str(&"é".repeat(10_000 - name.chars().count()));
    assert_eq!(name.chars().count(), 10_000);
    let record = serde_json::json!({
        "type": "asset", "source": "git", "id": "hostile", "kind": "model_source",
        "name": name, "description": "<b>bold</b> & 'quoted'", "tags": {"x'; --": "<i>"}
    });
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/json", record.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stored: (String, String) =
        sqlx::query_as("SELECT name, description FROM assets WHERE external_id = 'hostile'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored.0, name, "stored exactly as sent");
    assert_eq!(stored.1, "<b>bold</b> & 'quoted'");

    let (status, _, body) = get(&app, "/api/v1/search?q=drop%20table").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["hits"][0]["name"], serde_json::Value::String(name));

    // Control characters (a bell, an escape sequence, a tab) have no place in a name.
    for (control, named) in [('\u{7}', "U+0007"), ('\u{1b}', "U+001B"), ('\t', "U+0009")] {
        let record = serde_json::json!({
            "type": "asset", "source": "git", "id": "controlled", "kind": "model_source",
            "name": format!("a{control}b")
        });
        let (status, _, body) = call(
            &app,
            post_records(Some(&editor), "application/json", record.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body.contains(&format!(
                "name must not contain a control character ({named})"
            )),
            "{body}"
        );
    }

    // 10,001 characters is one too many, and says so.
    let too_long = serde_json::json!({
        "type": "asset", "source": "git", "id": "long", "kind": "model_source", "name": "x".repeat(10_001)
    });
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/json", too_long.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("longer than 10000 characters"), "{body}");
}

#[sqlx::test]
async fn read_endpoints_answer_and_name_bad_parameters(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", modelgov::model::role::Role::Editor).await;
    let body = [
        r#"{"type":"asset","source":"git","id":"m","kind":"model_source","name":"Feed ranker","tags":{"tier":"1"}}"#,
        r#"{"type":"asset","source":"airflow","id":"r1","kind":"workflow_run","name":"run 1","status":"succeeded"}"#,
        r#"{"type":"asset","source":"mlflow","id":"feed/1","kind":"model_binary","name":"v1"}"#,
        r#"{"type":"edge","from":{"source":"git","id":"m"},"to":{"source":"airflow","id":"r1"}}"#,
        r#"{"type":"edge","from":{"source":"airflow","id":"r1"},"to":{"source":"mlflow","id":"feed/1"}}"#,
    ]
    .join("\n");
    let (status, _, answer) = call(
        &app,
        post_records(Some(&editor), "application/x-ndjson", body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let (status, _, body) = get(
        &app,
        "/api/v1/assets/mlflow/feed%2F1/lineage?direction=up&depth=5",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lineage: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(lineage["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(lineage["edges"].as_array().unwrap().len(), 2);
    assert_eq!(lineage["truncated"], false);

    let (status, _, body) = get(&app, "/api/v1/assets/git/m/history").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let history: serde_json::Value = serde_json::from_str(&body).unwrap();
    let changes = history["changes"].as_array().unwrap();
    assert!(changes.iter().all(|c| c["actor"] == "token:ci"), "{body}");
    assert!(
        changes
            .iter()
            .any(|c| c["subject"] == "asset" && c["op"] == "created")
    );

    let (status, _, body) = get(&app, "/api/v1/search?tag=tier:1&kind=model_source").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Feed ranker"));

    for (uri, message) in [
        (
            "/api/v1/assets/git/m/lineage?direction=sideways",
            "direction must be",
        ),
        ("/api/v1/assets/git/m/lineage?depth=0", "depth must be"),
        ("/api/v1/assets/git/m/history?limit=100000", "limit must be"),
        ("/api/v1/assets/git/m/serving?as_of=yesterday", "RFC 3339"),
        ("/api/v1/search?kind=gizmo", "kind \\\"gizmo\\\""),
        ("/api/v1/search?tag=notag", "tag must be key:value"),
        ("/api/v1/search?colour=red", "unknown parameter"),
    ] {
        let (status, _, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(body.contains(message), "{uri}: {body}");
    }
    let (status, _, body) = get(&app, "/api/v1/assets/git/nothing/lineage").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("no asset git/nothing"), "{body}");
}

#[sqlx::test]
async fn concurrent_requests_share_transactions_but_get_their_own_answers(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", modelgov::model::role::Role::Editor).await;
    let requests = (0..24).map(|i| {
        let app = app.clone();
        let body = if i % 6 == 5 {
            // Every sixth request is refused; the others in its transaction still apply.
            format!(r#"{{"type":"asset","source":"git","id":"m{i}","kind":"model_source","name":"m","status":"live"}}"#)
        } else {
            format!(r#"[{{"type":"asset","source":"git","id":"m{i}","kind":"model_source","name":"m{i}"}},{{"type":"asset","source":"git","id":"n{i}","kind":"dataset","name":"n{i}"}}]"#)
        };
        let request = post_records(Some(&editor), "application/json", body);
        async move { (i, call(&app, request).await) }
    });
    for (i, (status, _, body)) in futures::future::join_all(requests).await {
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        if i % 6 == 5 {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{i}: {body}");
            assert_eq!(answer["results"].as_array().unwrap().len(), 1);
        } else {
            assert_eq!(status, StatusCode::OK, "{i}: {body}");
            assert_eq!(answer["summary"]["created"], 2, "{i}: {body}");
        }
    }
    assert_eq!(asset_count(&pool).await, 40);
}

#[sqlx::test(fixtures("small_tree"))]
async fn metrics_endpoints_answer_exports_and_name_bad_parameters(pool: PgPool) {
    let app = app(pool.clone());
    let (status, _, body) = get(&app, "/api/v1/scorecard").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("no metrics have been computed yet"), "{body}");

    let (status, _, body) = call(
        &app,
        Request::post("/api/v1/recompute")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let editor = token(&pool, "ci", modelgov::model::role::Role::Editor).await;
    let request = Request::post("/api/v1/recompute")
        .header(header::AUTHORIZATION, format!("Bearer {editor}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""models":6"#), "{body}");

    let (status, _, catalog) = get(&app, "/api/v1/catalog").await;
    assert_eq!(status, StatusCode::OK);
    let catalog: serde_json::Value = serde_json::from_str(&catalog).unwrap();
    let scopes = catalog["metrics"].as_array().unwrap().len()
        + catalog["domains"].as_array().unwrap().len()
        + 1;

    let (status, headers, body) = get(&app, "/api/v1/export/levels.ndjson").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/x-ndjson");
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        6 * scopes,
        "one row per model source and scope"
    );
    assert!(
        lines.iter().all(|l| l["model"]["source"] == "git"
            && l["evidence"]["catalog_version"] == catalog["version"])
    );

    let (status, headers, body) = get(&app, "/api/v1/export/rollups.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    assert!(body.starts_with(
        "unit_source,unit_id,unit_name,scope,level_0,level_1,level_2,level_3,unknown,exempt,score\n"
    ));
    assert!(
        body.contains("modelgov,unowned,Unowned models,overall,"),
        "the unowned row"
    );

    let (status, _, body) = get(&app, "/api/v1/units/hr/beta/children?scope=overall").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let children: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(children.as_array().unwrap().len(), 2);

    for (uri, status, message) in [
        (
            "/api/v1/export/levels.ndjson?as_of=garbage",
            StatusCode::BAD_REQUEST,
            "as_of \\\"garbage\\\"",
        ),
        (
            "/api/v1/export/levels.ndjson?as_of=2000-01-01T00:00:00Z",
            StatusCode::NOT_FOUND,
            "no metrics were computed by 2000-01-01T00:00:00Z: the first results are from",
        ),
        (
            "/api/v1/export/everything.zip",
            StatusCode::NOT_FOUND,
            "no export",
        ),
        (
            "/api/v1/units/hr/beta/children?scope=vibes",
            StatusCode::BAD_REQUEST,
            "scope \\\"vibes\\\"",
        ),
        (
            "/api/v1/units/hr/nobody/scorecard",
            StatusCode::NOT_FOUND,
            "no org unit hr/nobody",
        ),
        (
            "/api/v1/units/hr/beta/trend?days=0",
            StatusCode::BAD_REQUEST,
            "days must be",
        ),
        (
            "/api/v1/models/git/nothing/metrics",
            StatusCode::NOT_FOUND,
            "no results",
        ),
    ] {
        let (got, _, body) = get(&app, uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert!(body.contains(message), "{uri}: {body}");
    }
}

fn post_lineage(token: Option<&str>, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::post("/api/v1/lineage").header(header::CONTENT_TYPE, content_type);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(body.into()).unwrap()
}

#[sqlx::test]
async fn lineage_events_are_checked_before_anything_is_written(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ol", modelgov::model::role::Role::Editor).await;
    let viewer = token(&pool, "ro", modelgov::model::role::Role::Viewer).await;
    let event = serde_json::json!({
        "eventType": "COMPLETE",
        "eventTime": "2026-11-01T12:30:00Z",
        "producer": "https://example.com/ci",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "r-1", "facets": {"custom": {"kept": true}}},
        "job": {"namespace": "ns", "name": "train"},
        "inputs": [{"namespace": "s3://b", "name": "t", "facets": {"datasetType": {"datasetType": "TABLE"}}}],
        "outputs": [{"namespace": "mlflow://r", "name": "m/1"}]
    });
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            post_lineage(None, "application/json", event.to_string()),
            StatusCode::UNAUTHORIZED,
            "token",
        ),
        (
            post_lineage(Some(&viewer), "application/json", event.to_string()),
            StatusCode::FORBIDDEN,
            "editor",
        ),
        (
            post_lineage(Some(&editor), "text/plain", event.to_string()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "application/json",
        ),
        (
            post_lineage(Some(&editor), "application/json", "{not json"),
            StatusCode::BAD_REQUEST,
            "not JSON",
        ),
        (
            post_lineage(Some(&editor), "application/json", r#"{"eventTime": 5}"#),
            StatusCode::BAD_REQUEST,
            "RunEvent",
        ),
        (
            post_lineage(
                Some(&editor),
                "application/json",
                "x".repeat(2 * 1024 * 1024),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "1 MB",
        ),
    ];
    for (request, expected, says) in cases {
        let (status, _, body) = call(&app, request).await;
        assert_eq!(status, expected, "{body}");
        assert!(body.contains(says), "{expected}: {body}");
    }
    assert_eq!(asset_count(&pool).await, 0, "refused events change nothing");

    let (status, _, body) = call(
        &app,
        post_lineage(Some(&editor), "application/json", event.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(asset_count(&pool).await, 4, "job, run, table, model");
    let kept: serde_json::Value =
        sqlx::query_scalar("SELECT event -> 'run' -> 'facets' FROM lineage_events")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        kept,
        serde_json::json!({"custom": {"kept": true}}),
        "facets modelgov does not read are kept"
    );

    // The same output from another run breaks "one run per binary": 422, and nothing is written.
    let mut other = event.clone();
    other["run"]["runId"] = "r-2".into();
    let (status, _, body) = call(
        &app,
        post_lineage(Some(&editor), "application/json", other.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(asset_count(&pool).await, 4);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM lineage_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 1, "the refused event is not kept either");
    let (_, _, body) = get(&app, "/api/v1/rejections").await;
    assert!(
        body.contains(r#""source":"openlineage","external_id":"run:r-2""#)
            && body.contains("token:ol"),
        "but its refusal is, with the reason: {body}"
    );
    // A native record the graph refuses is listed too.
    let bad_edge =
        r#"{"type":"edge","from":{"source":"x","id":"nope"},"to":{"source":"x","id":"nada"}}"#;
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/json", bad_edge),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, _, body) = get(&app, "/api/v1/rejections?limit=1").await;
    assert!(
        body.contains("x/nope -> x/nada") || body.contains("nope"),
        "{body}"
    );
}

#[sqlx::test]
async fn a_new_mapping_applies_what_waited_in_quarantine(pool: PgPool) {
    use modelgov::model::role::Role;
    let app = app(pool.clone());
    let admin = token(&pool, "admin", Role::Admin).await;
    let editor = token(&pool, "editor", Role::Editor).await;
    let put = |who: &str, path: &str, body: &str| {
        Request::put(path)
            .header(header::AUTHORIZATION, format!("Bearer {who}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };

    // A native record and an OpenLineage input whose labels nothing maps yet.
    let record =
        r#"{"type":"asset","source":"kubeflow","id":"p1","label":"Pipeline Run","name":"p1"}"#;
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/json", record),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("quarantined"), "{body}");
    let event = serde_json::json!({
        "eventType": "COMPLETE", "eventTime": "2026-11-01T12:30:00Z",
        "producer": "https://example.com/ci",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "r-1"}, "job": {"namespace": "ns", "name": "train"},
        "inputs": [{"namespace": "hdfs://x", "name": "g", "facets": {"datasetType": {"datasetType": "GRAPH"}}}]
    });
    let (status, _, body) = call(
        &app,
        post_lineage(Some(&editor), "application/json", event.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, _, body) = get(&app, "/api/v1/mappings").await;
    assert!(
        body.contains(r#"{"source":"openlineage","label":"GRAPH","kind":"","quarantined":1}"#),
        "{body}"
    );
    let (_, _, body) = get(&app, "/api/v1/quarantine").await;
    assert!(
        body.contains("hdfs://x/g") && body.contains(r#""external_id":"p1""#),
        "{body}"
    );

    // Only admins map, to a real kind.
    for (who, body, expected) in [
        (&editor, r#"{"kind":"dataset"}"#, StatusCode::FORBIDDEN),
        (&admin, r#"{"kind":"table"}"#, StatusCode::BAD_REQUEST),
        (&admin, r#"{"type":"dataset"}"#, StatusCode::BAD_REQUEST),
    ] {
        let (status, _, answer) =
            call(&app, put(who, "/api/v1/mappings/openlineage/GRAPH", body)).await;
        assert_eq!(status, expected, "{answer}");
    }
    assert_eq!(asset_count(&pool).await, 2, "job and run only");

    // Mapping GRAPH applies the waiting dataset and replays the event for its edge.
    let (status, _, body) = call(
        &app,
        put(
            &admin,
            "/api/v1/mappings/openlineage/GRAPH",
            r#"{"kind":"dataset"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains(r#""still_quarantined":0"#) && body.contains(r#""replayed_events":1"#),
        "{body}"
    );
    let (_, _, lineage) = get(
        &app,
        "/api/v1/assets/openlineage/run%3Ar-1/lineage?direction=up&depth=1",
    )
    .await;
    assert!(
        lineage.contains(r#""id":"hdfs://x/g""#),
        "the dataset now feeds the run: {lineage}"
    );
    let (status, _, body) = call(
        &app,
        put(
            &admin,
            "/api/v1/mappings/kubeflow/Pipeline%20Run",
            r#"{"kind":"workflow_run"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""status":"created""#), "{body}");
    let (_, _, body) = get(&app, "/api/v1/quarantine").await;
    assert_eq!(body, "[]");

    let delete = Request::delete("/api/v1/mappings/kubeflow/Pipeline%20Run")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&app, delete).await.0, StatusCode::OK);
    let (_, _, body) = get(&app, "/api/v1/lineage/events?limit=5").await;
    assert!(body.contains(r#""run_id":"r-1""#), "{body}");
    let (status, _, page) = get(&app, "/ingestion").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("GRAPH") && page.contains("r-1"),
        "the ingestion page lists mappings and events"
    );
}

#[sqlx::test]
async fn the_mlflow_api_answers_in_mlflows_error_shape(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ml", modelgov::model::role::Role::Editor).await;
    let create = |token: Option<&str>, body: &str| {
        let mut request = Request::post("/api/2.0/mlflow/registered-models/create")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request.body(Body::from(body.to_string())).unwrap()
    };
    let cases = [
        (
            create(None, r#"{"name":"m"}"#),
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        ),
        (
            create(Some(&editor), r#"{"name":""}"#),
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            create(Some(&editor), "{not json"),
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            create(Some(&editor), r#"{"name":"m"}"#),
            StatusCode::OK,
            "registered_model",
        ),
        (
            create(Some(&editor), r#"{"name":"m"}"#),
            StatusCode::BAD_REQUEST,
            "RESOURCE_ALREADY_EXISTS",
        ),
    ];
    for (request, expected, says) in cases {
        let (status, _, body) = call(&app, request).await;
        assert_eq!(status, expected, "{body}");
        assert!(body.contains(says), "{body}");
    }
    for (uri, expected, says) in [
        (
            "/api/2.0/mlflow/registered-models/get?name=nope",
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "/api/2.0/mlflow/model-versions/get?name=m&version=x",
            StatusCode::BAD_REQUEST,
            "Parameter 'version' must be an integer, got 'x'.",
        ),
        (
            "/api/2.0/mlflow/registered-models/search?filter=version%20%3E%202",
            StatusCode::BAD_REQUEST,
            "Invalid attribute key 'version' specified. Valid keys are '{'name'}'",
        ),
        (
            "/api/2.0/mlflow/model-versions/search?filter=name%20~%201",
            StatusCode::BAD_REQUEST,
            "bad filter",
        ),
        (
            "/api/2.0/mlflow/experiments/list",
            StatusCode::NOT_FOUND,
            "ENDPOINT_NOT_FOUND",
        ),
    ] {
        let (status, _, body) = get(&app, uri).await;
        assert_eq!(status, expected, "{uri}: {body}");
        assert!(body.contains(says), "{uri}: {body}");
    }
    let (status, _, body) = get(&app, "/api/2.0/mlflow/registered-models/get?name=m").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let model: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        model["registered_model"]["creation_timestamp"].is_i64(),
        "{body}"
    );
}

#[sqlx::test(fixtures("small_tree"))]
async fn the_catalog_and_the_metric_page_state_what_a_metric_judges_and_its_levels(pool: PgPool) {
    let catalog = modelgov::server::metrics::catalog::load(None).unwrap();
    modelgov::server::metrics::recompute(&pool, &catalog)
        .await
        .unwrap();
    let app = app(pool);
    let (status, _, body) = get(&app, "/api/v1/catalog").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let served: serde_json::Value = serde_json::from_str(&body).unwrap();
    let freshness = served["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "retraining_freshness")
        .unwrap();
    assert!(freshness["judged"].as_str().unwrap().contains("production"));
    assert!(
        freshness["levels"]
            .as_str()
            .unwrap()
            .contains("at or below 30")
    );
    let (status, _, page) = get(&app, "/metrics/retraining_freshness").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"data-testid="judged""#), "{page}");
    assert!(page.contains("level 0 (at risk) above 180"), "{page}");
}

/// The API and the dashboard's server functions read shared parameters with one set of limits
/// and answer a mistake in the same words.
#[sqlx::test(fixtures("small_tree"))]
async fn the_api_and_server_functions_share_their_limits(pool: PgPool) {
    let catalog = modelgov::server::metrics::catalog::load(None).unwrap();
    modelgov::server::metrics::recompute(&pool, &catalog)
        .await
        .unwrap();
    let app = app(pool);
    let form = |uri: &str, body: &str| {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let said = "days must be one of 7, 30, 90, 365, not 60";
    let (status, _, rest) = get(&app, "/api/v1/units/hr/beta/trend?days=60").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(rest.contains(said), "{rest}");
    let (status, _, page) = get(&app, "/units/hr/beta?days=60").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains(said), "{page}");
    let (status, _, function) = call(
        &app,
        form(
            "/api/fn/get_unit_page",
            "unit[source]=hr&unit[id]=beta&days=60",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{function}");
    assert!(function.contains(said), "{function}");
    for days in ["7", "365"] {
        let (status, _, body) =
            get(&app, &format!("/api/v1/units/hr/beta/trend?days={days}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let said = "offset must be 0-10000, not 10001";
    let (status, _, rest) = get(&app, "/api/v1/search?q=a&offset=10001").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(rest.contains(said), "{rest}");
    let (status, _, function) =
        call(&app, form("/api/fn/search_assets", "text=a&offset=10001")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{function}");
    assert!(function.contains(said), "{function}");
    let said = "a tag must be key:value";
    let (_, _, rest) = get(&app, "/api/v1/search?tag=notag").await;
    let (_, _, function) = call(&app, form("/api/fn/search_assets", "text=&tag=notag")).await;
    assert!(
        rest.contains(said) && function.contains(said),
        "{rest} {function}"
    );
}
