//! Campaigns (issue 17) through the real router: the goal evaluated over the selection, the
//! burn-down filled in from the snapshots and extended by each recompute, as-of, closing with
//! final figures, the units' pages, and bad input refused.

use super::access::{recompute, registry};
use super::governance::refused_each;
use super::trust::request;
use super::*;
use modelgov::model::role::Role;

fn json_request(method: &str, uri: &str, token: Option<&str>, body: &str) -> Request<Body> {
    request(method, uri, token, Body::from(body.to_string()))
}

fn date_in(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn campaign(units: &str, extra: &str) -> String {
    format!(
        r#"{{"name":"Describe every model","scope":"metric:documentation","min_level":2,"units":{units},"starts_at":"{}","deadline":"{}","owner":"ML platform"{extra}}}"#,
        date_in(-1),
        date_in(30)
    )
}

/// Creates a campaign as `token`; its id.
async fn create(app: &Router, token: &str, body: &str) -> (i64, serde_json::Value) {
    let (status, _, answer) = call(
        app,
        json_request("POST", "/api/v1/campaigns", Some(token), body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let created: serde_json::Value = serde_json::from_str(&answer).unwrap();
    (created["id"].as_i64().unwrap(), created)
}

async fn page(app: &Router, id: i64, query: &str) -> serde_json::Value {
    let (status, _, body) = get(app, &format!("/api/v1/campaigns/{id}{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[sqlx::test]
async fn a_campaign_counts_its_selection_burns_down_with_each_recompute_and_reads_as_of(
    pool: PgPool,
) {
    let app = app(pool.clone());
    registry(&pool, &app).await;
    let editor = token(&pool, "ana", Role::Editor).await;
    let (id, created) = create(
        &app,
        &editor,
        &campaign(r#"[{"source":"hr","id":"team"}]"#, ""),
    )
    .await;
    assert_eq!(
        created["goal"],
        "every model source of Team at metric:documentation level 2 (managed) or higher"
    );

    // git/m (owned by the team) has no description: short, with what would lift it.
    let before = page(&app, id, "").await;
    assert_eq!(before["progress"]["total"], 1, "{before}");
    assert_eq!(before["progress"]["met"], 0);
    assert_eq!(before["short"][0]["model"]["id"], "m");
    let lift = before["short"][0]["lift"][0].as_str().unwrap();
    assert!(lift.starts_with("documentation: at least 40"), "{lift}");
    assert!(
        !before["burn_down"].as_array().unwrap().is_empty(),
        "the burn-down is filled in from the snapshots since the start: {before}"
    );
    assert!(
        before["burn_down_svg"]
            .as_str()
            .unwrap()
            .starts_with("<svg")
    );
    // As of this snapshot's exact time (the API writes it to the second): the next snapshot is
    // computed after the write below, so later.
    let then: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT computed_at FROM metric_snapshots WHERE id = $1")
            .bind(before["snapshot"]["id"].as_i64().unwrap())
            .fetch_one(&pool)
            .await
            .unwrap();
    let then = then.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);

    // Describing the model and recomputing adds a point where it meets the goal.
    let describe = r#"{"type":"asset","source":"git","id":"m","kind":"model_source","name":"M","description":"Ranks the feed by predicted engagement, retrained weekly."}"#;
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/x-ndjson", describe),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    recompute(&pool).await;
    let after = page(&app, id, "").await;
    assert_eq!(after["progress"]["met"], 1, "{after}");
    assert!(after["short"].as_array().unwrap().is_empty(), "{after}");
    let points = after["burn_down"].as_array().unwrap();
    assert_eq!(points.last().unwrap()["progress"]["met"], 1, "{after}");
    assert!(
        after["projected"].is_string(),
        "done: the date it was done: {after}"
    );

    // As of before the write, the campaign reads as it was.
    let earlier = page(&app, id, &format!("?as_of={}", then.replace('+', "%2B"))).await;
    assert_eq!(earlier["progress"]["met"], 0, "{earlier}");
    assert_eq!(earlier["short"][0]["model"]["id"], "m");

    // The team's page lists it; a company-wide campaign counts the unowned git/o too.
    let (_, _, html) = get(&app, "/units/hr/team").await;
    assert!(
        html.contains("Describe every model"),
        "the unit page lists it"
    );
    let (company_wide, _) = create(&app, &editor, &campaign("[]", "")).await;
    let whole = page(&app, company_wide, "").await;
    assert_eq!(whole["progress"]["total"], 2, "{whole}");
    let units: Vec<&str> = whole["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"]["name"].as_str().unwrap())
        .collect();
    assert!(
        units.contains(&"Team") && units.contains(&"Models no unit owns"),
        "{units:?}"
    );

    // Closing keeps the figures; closing again is refused.
    let close = format!("/api/v1/campaigns/{id}/close");
    let (status, _, body) = call(&app, json_request("POST", &close, Some(&editor), "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"closed_at\":\""), "{body}");
    let (status, _, body) = call(&app, json_request("POST", &close, Some(&editor), "")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let closed = page(&app, id, "").await;
    assert_eq!(closed["final_figures"]["progress"]["met"], 1, "{closed}");
    // A closed campaign gets no more points; an open one gets one per recompute.
    let points = |campaign: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM campaign_points WHERE campaign_id = $1",
            )
            .bind(campaign)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let (closed_before, open_before) = (points(id).await, points(company_wide).await);
    recompute(&pool).await;
    assert_eq!(points(id).await, closed_before);
    assert_eq!(points(company_wide).await, open_before + 1);
}

/// A selection by deployment status: production as each snapshot judged it, another status
/// from the graph now.
#[sqlx::test]
async fn a_campaign_selects_by_deployment_status(pool: PgPool) {
    let app = app(pool.clone());
    registry(&pool, &app).await;
    let editor = token(&pool, "ana", Role::Editor).await;
    let mut ids = Vec::new();
    for status in ["production", "development"] {
        let body = campaign("[]", &format!(r#","deployment_status":"{status}""#));
        ids.push(create(&app, &editor, &body).await.0);
    }
    // deploy/d serves git/m in development; nothing is in production.
    assert_eq!(page(&app, ids[0], "").await["progress"]["total"], 0);
    assert_eq!(page(&app, ids[1], "").await["progress"]["total"], 1);
    for to in ["staging", "production"] {
        let (status, _, body) = call(
            &app,
            super::access::operate(
                &editor,
                &format!(
                    r#"{{"op":"promote","deployment":{},"to":"{to}"}}"#,
                    super::access::D
                ),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    recompute(&pool).await;
    let production = page(&app, ids[0], "").await;
    assert_eq!(production["progress"]["total"], 1, "{production}");
    assert_eq!(production["short"][0]["model"]["id"], "m");
    assert_eq!(page(&app, ids[1], "").await["progress"]["total"], 0);
}

#[sqlx::test]
async fn bad_campaigns_are_refused_naming_the_problem(pool: PgPool) {
    let app = app(pool.clone());
    registry(&pool, &app).await;
    let editor = token(&pool, "ana", Role::Editor).await;
    let viewer = token(&pool, "vi", Role::Viewer).await;
    let team = r#"[{"source":"hr","id":"team"}]"#;
    let cases = [
        (
            campaign(team, "").replace("metric:documentation", "metric:nope"),
            StatusCode::BAD_REQUEST,
            "is not one of the catalog's",
        ),
        (
            campaign(team, "").replace(r#""min_level":2"#, r#""min_level":4"#),
            StatusCode::BAD_REQUEST,
            "a level is 0-3",
        ),
        (
            campaign(team, "").replace(&date_in(30), &date_in(-3)),
            StatusCode::BAD_REQUEST,
            "is not after the start",
        ),
        (
            campaign(team, "").replace(&date_in(30), "someday"),
            StatusCode::BAD_REQUEST,
            "deadline \\\"someday\\\" is neither a date",
        ),
        (
            campaign(r#"[{"source":"hr","id":"ghost"}]"#, ""),
            StatusCode::NOT_FOUND,
            "no org unit hr/ghost",
        ),
        (
            campaign(team, "").replace("Describe every model", " "),
            StatusCode::BAD_REQUEST,
            "name must not be empty",
        ),
        (
            campaign(team, r#","deployment_status":"launched""#),
            StatusCode::BAD_REQUEST,
            "deployment_status",
        ),
        (
            campaign(team, r#","tags":{"tier":"a\u0000b"}"#),
            StatusCode::BAD_REQUEST,
            "NUL",
        ),
    ];
    refused_each(&app, "/api/v1/campaigns", &editor, cases).await;
    let (status, _, _) = call(
        &app,
        json_request(
            "POST",
            "/api/v1/campaigns",
            Some(&viewer),
            &campaign(team, ""),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM campaigns")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was written");
    for (uri, status) in [
        ("/api/v1/campaigns/x", StatusCode::BAD_REQUEST),
        ("/api/v1/campaigns/77", StatusCode::NOT_FOUND),
        (
            "/api/v1/campaigns/1?as_of=yesterday",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(get(&app, uri).await.0, status, "{uri}");
    }
}
