//! HTTP tests: the real router, built from `AppState`, called in-process.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use modelgov::server::{self, config::Config, demo, state::AppState};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tower::ServiceExt;

fn config() -> Config {
    Config::from_lookup(|name| (name == "DATABASE_URL").then(|| "postgres://unused".into()))
        .unwrap()
}

fn app(pool: PgPool) -> Router {
    server::router(AppState::new(pool, config()))
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

async fn get(app: &Router, uri: &str) -> (StatusCode, http::HeaderMap, String) {
    call(app, Request::get(uri).body(Body::empty()).unwrap()).await
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

#[sqlx::test]
async fn overview_is_rendered_on_the_server_with_escaped_names(pool: PgPool) {
    demo::load(&pool).await.unwrap();
    sqlx::query(
        "UPDATE org_units SET name = '<script>alert(1)</script>' WHERE external_id = 'feed'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (status, headers, body) = get(&app(pool), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("Company overview"));
    assert!(body.contains("Trust &amp; Safety"), "names are escaped");
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !body.contains("<script>alert(1)"),
        "metadata never becomes markup"
    );
    assert_eq!(body.matches(r#"data-testid="unit-row""#).count(), 16);
    assert!(
        body.contains("/pkg/modelgov.js"),
        "the page loads the browser bundle"
    );
}

#[sqlx::test]
async fn the_filter_works_without_javascript(pool: PgPool) {
    demo::load(&pool).await.unwrap();
    let (status, _, body) = get(&app(pool), "/?q=trust").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.matches(r#"data-testid="unit-row""#).count(), 3);
    assert!(body.contains("Hate Speech") && body.contains("Misinformation"));
    assert!(!body.contains(">Bidding<"));
    assert!(body.contains("Showing 3 of 16 org units"));
}

#[sqlx::test]
async fn server_function_answers_json(pool: PgPool) {
    demo::load(&pool).await.unwrap();
    let request = Request::post("/api/fn/list_org_units")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = call(&app(pool), request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let units: Vec<modelgov::model::OrgUnitSummary> = serde_json::from_str(&body).unwrap();
    assert_eq!(units.len(), 16);
    assert_eq!(units[0].name, "Acme");
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
