//! Promotion gates and exemptions (issue 17) through the real router, with the built-in catalog
//! and the example gates appended (`metrics/gates.example.toml`: staging needs safety ≥ 1,
//! production safety ≥ 2 and security ≥ 2): every refusal and override over REST, the server
//! functions and the MLflow API, exemptions' lifecycle and their count in the rollups.

use std::sync::atomic::{AtomicU64, Ordering};

use super::access::{D, Seen, change_count, csrf, deployment, json_fn, operate, registry, sign_in};
use super::trust::{mlflow, request};
use super::*;
use modelgov::model::metrics::Catalog;
use modelgov::model::role::Role;
use modelgov::server::metrics::catalog::{BUILT_IN, parse};

const GATES: &str = include_str!("../../metrics/gates.example.toml");

/// The built-in catalog with the example gates, as a company turns them on.
fn gated_catalog_text() -> String {
    format!("{BUILT_IN}\n{GATES}")
}

fn gated_catalog() -> Catalog {
    parse("gated", &gated_catalog_text()).unwrap()
}

/// The app with the gated catalog (a file of its own per call: tests run at once).
fn gated_app(pool: PgPool) -> Router {
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "modelgov-gated-{}-{}.toml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, gated_catalog_text()).unwrap();
    let path = path.to_string_lossy().into_owned();
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some("postgres://unused".into()),
        "MODELGOV_CATALOG" => Some(path.clone()),
        _ => None,
    })
    .unwrap();
    server::router(AppState::new(pool, config).unwrap())
}

async fn recompute_gated(pool: &PgPool) {
    modelgov::server::metrics::recompute(pool, &gated_catalog())
        .await
        .unwrap();
}

fn json_request(method: &str, uri: &str, token: Option<&str>, body: &str) -> Request<Body> {
    request(method, uri, token, Body::from(body.to_string()))
}

/// POSTs each body to `uri` as `token` and checks its answer: the status and words that name
/// the problem.
pub(super) async fn refused_each(
    app: &Router,
    uri: &str,
    token: &str,
    cases: impl IntoIterator<Item = (String, StatusCode, &str)>,
) {
    for (body, status, says) in cases {
        let (got, _, answer) = call(app, json_request("POST", uri, Some(token), &body)).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer.contains(says), "{body}: {answer}");
    }
}

fn ask(model: &str, scope: &str, expires: &str) -> String {
    format!(
        r#"{{"model":{model},"scope":"{scope}","reason":"red team booked for March","expires_at":"{expires}"}}"#
    )
}

/// A date `days` from now, as the API takes it.
fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

const M: &str = r#"{"source":"git","id":"m"}"#;

fn scope_counts(scorecard: &serde_json::Value, scope: &str) -> serde_json::Value {
    scorecard["rollups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["scope"] == scope)
        .unwrap_or_else(|| panic!("no {scope} in {scorecard}"))["counts"]
        .clone()
}

async fn team_scorecard(app: &Router) -> serde_json::Value {
    let (status, _, body) = get(app, "/api/v1/units/hr/team/scorecard").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn history_of(app: &Router, asset: &str) -> String {
    let (status, _, body) = get(app, &format!("/api/v1/assets/{asset}/history?limit=100")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[sqlx::test]
async fn gates_refuse_promotions_below_the_bar_until_an_exemption_or_an_admin_override(
    pool: PgPool,
) {
    let app = gated_app(pool.clone());
    registry(&pool, &app).await;
    recompute_gated(&pool).await;
    let editor = token(&pool, "ana", Role::Editor).await;
    let admin = token(&pool, "root", Role::Admin).await;
    let viewer = token(&pool, "vi", Role::Viewer).await;
    let to_staging = format!(r#"{{"op":"promote","deployment":{D},"to":"staging"}}"#);

    // Below the staging bar: refused naming the requirement and the level now; nothing changes.
    let before = change_count(&pool).await;
    let (status, _, body) = call(&app, operate(&editor, &to_staging)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("the staging gate refuses promoting deploy/d to staging: domain:safety needs 1 (basic) and is 0 (at risk)"),
        "{body}"
    );
    assert_eq!(deployment(&pool).await.0, "development");
    assert_eq!(change_count(&pool).await, before);

    // An editor cannot override; an empty reason does not read.
    let overriding = |reason: &str| {
        format!(
            r#"{{"op":"promote","deployment":{D},"to":"staging","override_reason":{}}}"#,
            serde_json::json!(reason)
        )
    };
    let (status, _, body) = call(&app, operate(&editor, &overriding("ship it"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("needs the admin role"), "{body}");
    let (status, _, body) = call(&app, operate(&admin, &overriding("  "))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("override_reason must say why"), "{body}");
    assert_eq!(change_count(&pool).await, before);

    // The model page's view of it, before any click.
    let (status, _, body) = get(&app, "/api/v1/models/git/m/gates").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let gates: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(gates[0]["status"], "staging");
    assert_eq!(gates[0]["passes"], false);
    assert_eq!(gates[1]["status"], "production");
    assert_eq!(gates[1]["unmet"].as_array().unwrap().len(), 2, "{body}");

    // An exemption asked for does not apply until an admin approves it.
    let (status, _, body) = call(
        &app,
        json_request(
            "POST",
            "/api/v1/exemptions",
            Some(&editor),
            &ask(M, "domain:safety", &in_days(90)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let exemption: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(exemption["status"], "requested");
    assert_eq!(exemption["requested_by"], "token:ana");
    assert!(exemption["approved_by"].is_null());
    let id = exemption["id"].as_i64().unwrap();
    let (status, _, _) = call(&app, operate(&editor, &to_staging)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A second one for the same scope is refused while this one is open.
    let (status, _, body) = call(
        &app,
        json_request(
            "POST",
            "/api/v1/exemptions",
            Some(&editor),
            &ask(M, "domain:safety", &in_days(30)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("renew it instead"), "{body}");

    let approve = format!("/api/v1/exemptions/{id}/approve");
    for (who, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(&viewer), StatusCode::FORBIDDEN),
        (Some(&editor), StatusCode::FORBIDDEN),
    ] {
        let (got, _, body) = call(
            &app,
            json_request("POST", &approve, who.map(String::as_str), ""),
        )
        .await;
        assert_eq!(got, status, "{body}");
    }
    let (status, _, body) = call(&app, json_request("POST", &approve, Some(&admin), "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let approved: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(approved["status"], "active");
    assert_eq!(approved["approved_by"], "token:root");
    let (status, _, body) = call(&app, json_request("POST", &approve, Some(&admin), "")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("only a requested one is approved"), "{body}");

    // The exemption lets the staging promotion pass; the history keeps what it rested on.
    let (status, _, body) = call(&app, operate(&editor, &to_staging)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(deployment(&pool).await.0, "staging");

    // Production also needs security ≥ 2, which no exemption covers: only that is named.
    let to_production = format!(r#"{{"op":"promote","deployment":{D},"to":"production"}}"#);
    let (status, _, body) = call(&app, operate(&editor, &to_production)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("domain:security needs 2 (managed)"), "{body}");
    assert!(
        !body.contains("domain:safety"),
        "the exemption covers safety: {body}"
    );
    let (_, _, body) = get(&app, "/api/v1/models/git/m/gates").await;
    let gates: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(gates[1]["exempted"][0]["scope"], "domain:safety", "{body}");

    // An admin overrides with a reason, which the history keeps.
    let (status, _, body) = call(
        &app,
        operate(
            &admin,
            &format!(
                r#"{{"op":"promote","deployment":{D},"to":"production","override_reason":"incident 7: the fix must ship"}}"#
            ),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("(gate overridden: incident 7: the fix must ship)"),
        "{body}"
    );
    assert_eq!(deployment(&pool).await.0, "production");
    let history = history_of(&app, "git/m").await;
    assert!(history.contains("gate overridden: incident 7"), "{history}");
    assert!(history.contains("exemption_approved"), "{history}");
    assert!(history.contains("exemption_requested"), "{history}");

    // Deploying another binary into the production deployment passes the same gate.
    let deploy_b2 =
        format!(r#"{{"op":"deploy","deployment":{D},"binary":{{"source":"reg","id":"b2"}}}}"#);
    let (status, _, body) = call(&app, operate(&editor, &deploy_b2)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("the production gate refuses deploying reg/b2 to deploy/d (production)"),
        "{body}"
    );
    assert_eq!(deployment(&pool).await.1, "b1");
    // A rollback is never held back (there is nothing to roll back to here: the rules say so).
    let (status, _, body) = call(
        &app,
        operate(&editor, &format!(r#"{{"op":"rollback","deployment":{D}}}"#)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(!body.contains("gate"), "{body}");
}

#[sqlx::test]
async fn exemptions_count_as_exempt_in_the_rollups_until_they_expire_and_the_history_says_so(
    pool: PgPool,
) {
    let app = gated_app(pool.clone());
    registry(&pool, &app).await;
    recompute_gated(&pool).await;
    let admin = token(&pool, "root", Role::Admin).await;
    let before = team_scorecard(&app).await;
    assert_eq!(scope_counts(&before, "domain:safety")["exempt"], 0);
    let safety_level0 = scope_counts(&before, "domain:safety")["levels"][0]
        .as_i64()
        .unwrap();
    // The team is the company: it counts git/m and the unowned git/o.
    assert_eq!(safety_level0, 2, "{before}");

    // An admin's request is granted at once.
    let (status, _, body) = call(
        &app,
        json_request(
            "POST",
            "/api/v1/exemptions",
            Some(&admin),
            &ask(M, "domain:safety", &in_days(30)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let exemption: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(exemption["status"], "active");
    let id = exemption["id"].as_i64().unwrap();
    recompute_gated(&pool).await;

    // The domain and its metrics count the model as exempt, not at its level; other domains and
    // the overall level are untouched; the level itself is kept on the model.
    let after = team_scorecard(&app).await;
    let safety = scope_counts(&after, "domain:safety");
    assert_eq!(safety["exempt"], 1, "{after}");
    assert_eq!(safety["levels"][0], safety_level0 - 1, "{after}");
    assert_eq!(
        scope_counts(&after, "metric:safety_evaluation")["exempt"],
        1
    );
    assert_eq!(scope_counts(&after, "domain:security")["exempt"], 0);
    assert_eq!(scope_counts(&after, "overall")["exempt"], 0);
    let (_, _, body) = get(&app, "/api/v1/models/git/m/metrics").await;
    let metrics: serde_json::Value = serde_json::from_str(&body).unwrap();
    let safety_level = metrics["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d[0] == "safety")
        .unwrap()[1]
        .clone();
    assert_eq!(safety_level, 0, "the exempt result keeps its real level");
    // The company counts it too, and the export has the column.
    let (_, _, body) = get(&app, "/api/v1/export/rollups.csv").await;
    assert!(body.starts_with(
        "unit_source,unit_id,unit_name,scope,level_0,level_1,level_2,level_3,unknown,exempt,score\n"
    ));
    assert!(
        body.contains("hr,team,Team,domain:safety,1,0,0,0,0,1,"),
        "{body}"
    );
    // The unit page's list of exempt models holds it, and its level bucket leaves it out.
    let (status, _, page) = get(&app, "/units/hr/team?scope=domain:safety&level=exempt").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("/models/git/m"),
        "the exempt list names the model"
    );
    let (_, _, page) = get(&app, "/units/hr/team?scope=domain:safety&level=0").await;
    assert!(
        !page.contains("/models/git/m\""),
        "the at-risk list leaves it out"
    );

    // Past its expiry it stops applying at the next recompute, and the history says so once.
    sqlx::query("UPDATE exemptions SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    recompute_gated(&pool).await;
    recompute_gated(&pool).await;
    let expired = team_scorecard(&app).await;
    assert_eq!(scope_counts(&expired, "domain:safety")["exempt"], 0);
    assert_eq!(
        scope_counts(&expired, "domain:safety")["levels"][0],
        safety_level0
    );
    let history = history_of(&app, "git/m").await;
    assert_eq!(history.matches("exemption_expired").count(), 1, "{history}");
    let (_, _, body) = get(&app, &format!("/api/v1/exemptions/{id}")).await;
    assert!(body.contains(r#""status":"expired""#), "{body}");

    // Renewed, it applies again; revoked, it stays revoked.
    let (status, _, body) = call(
        &app,
        json_request(
            "POST",
            &format!("/api/v1/exemptions/{id}/renew"),
            Some(&admin),
            &format!(r#"{{"expires_at":"{}"}}"#, in_days(60)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""status":"active""#), "{body}");
    recompute_gated(&pool).await;
    assert_eq!(
        scope_counts(&team_scorecard(&app).await, "domain:safety")["exempt"],
        1
    );
    let (status, _, body) = call(
        &app,
        json_request(
            "POST",
            &format!("/api/v1/exemptions/{id}/revoke"),
            Some(&admin),
            "",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = call(
        &app,
        json_request(
            "POST",
            &format!("/api/v1/exemptions/{id}/renew"),
            Some(&admin),
            &format!(r#"{{"expires_at":"{}"}}"#, in_days(60)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    recompute_gated(&pool).await;
    assert_eq!(
        scope_counts(&team_scorecard(&app).await, "domain:safety")["exempt"],
        0
    );
    let history = history_of(&app, "git/m").await;
    for op in [
        "exemption_renewed",
        "exemption_revoked",
        "exemption_approved",
    ] {
        assert!(history.contains(op), "{op}: {history}");
    }
    let (_, _, body) = get(
        &app,
        "/api/v1/exemptions?model_source=git&model_id=m&status=revoked",
    )
    .await;
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{body}");
}

#[sqlx::test]
async fn bad_exemptions_are_refused_naming_the_problem_and_change_nothing(pool: PgPool) {
    let app = gated_app(pool.clone());
    registry(&pool, &app).await;
    let editor = token(&pool, "ana", Role::Editor).await;
    let viewer = token(&pool, "vi", Role::Viewer).await;
    let binary = r#"{"source":"reg","id":"b1"}"#;
    let nowhere = r#"{"source":"git","id":"nope"}"#;
    let cases = [
        (
            ask(M, "overall", &in_days(9)),
            StatusCode::BAD_REQUEST,
            "the overall level cannot be exempted",
        ),
        (
            ask(M, "domain:nope", &in_days(9)),
            StatusCode::BAD_REQUEST,
            "not one of the catalog's domains or metrics",
        ),
        (
            ask(M, "domain:safety", "2001-01-01"),
            StatusCode::BAD_REQUEST,
            "is not in the future",
        ),
        (
            ask(M, "domain:safety", &in_days(400)),
            StatusCode::BAD_REQUEST,
            "more than 366 days ahead",
        ),
        (
            ask(M, "domain:safety", "soon"),
            StatusCode::BAD_REQUEST,
            "neither a date",
        ),
        (
            ask(nowhere, "domain:safety", &in_days(9)),
            StatusCode::NOT_FOUND,
            "no model source git/nope",
        ),
        (
            ask(binary, "domain:safety", &in_days(9)),
            StatusCode::CONFLICT,
            "is a model binary, not a model source",
        ),
        (
            format!(
                r#"{{"model":{M},"scope":"domain:safety","reason":"","expires_at":"{}"}}"#,
                in_days(9)
            ),
            StatusCode::BAD_REQUEST,
            "reason must say why",
        ),
        (
            format!(
                r#"{{"model":{M},"scope":"domain:safety","reason":"a\u0000b","expires_at":"{}"}}"#,
                in_days(9)
            ),
            StatusCode::BAD_REQUEST,
            "NUL",
        ),
        (
            format!(
                r#"{{"model":{M},"scope":"domain:safety","reason":"x","expires_at":"{}","extra":1}}"#,
                in_days(9)
            ),
            StatusCode::BAD_REQUEST,
            "extra",
        ),
        (r#"{"model":1}"#.into(), StatusCode::BAD_REQUEST, "model"),
    ];
    refused_each(&app, "/api/v1/exemptions", &editor, cases).await;
    let (status, _, _) = call(
        &app,
        json_request(
            "POST",
            "/api/v1/exemptions",
            Some(&viewer),
            &ask(M, "domain:safety", &in_days(9)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = call(
        &app,
        json_request(
            "POST",
            "/api/v1/exemptions",
            None,
            &ask(M, "domain:safety", &in_days(9)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM exemptions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was written");
    for (uri, status, says) in [
        (
            "/api/v1/exemptions/abc",
            StatusCode::BAD_REQUEST,
            "not a positive whole number",
        ),
        (
            "/api/v1/exemptions/0",
            StatusCode::BAD_REQUEST,
            "not a positive whole number",
        ),
        (
            "/api/v1/exemptions/999",
            StatusCode::NOT_FOUND,
            "no exemption 999",
        ),
        (
            "/api/v1/exemptions?status=lost",
            StatusCode::BAD_REQUEST,
            "is not one of requested, active",
        ),
        (
            "/api/v1/exemptions?model_source=git",
            StatusCode::BAD_REQUEST,
            "give both or neither",
        ),
        (
            "/api/v1/models/git/nope/gates",
            StatusCode::NOT_FOUND,
            "no model source git/nope",
        ),
    ] {
        let (got, _, body) = get(&app, uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert!(body.contains(says), "{uri}: {body}");
    }
}

#[sqlx::test]
async fn mlflow_stage_transitions_and_production_aliases_pass_the_gates(pool: PgPool) {
    let app = gated_app(pool.clone());
    let editor = token(&pool, "ml", Role::Editor).await;
    let admin = token(&pool, "root", Role::Admin).await;
    let post =
        |call: &str, token: &str, body: serde_json::Value| mlflow("POST", call, token, &body);
    for (call_name, body) in [
        (
            "registered-models/create",
            serde_json::json!({"name": "gm"}),
        ),
        (
            "model-versions/create",
            serde_json::json!({"name": "gm", "source": "s3://b/gm/1"}),
        ),
    ] {
        let (status, _, answer) = call(&app, post(call_name, &editor, body)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let transition = serde_json::json!({"name": "gm", "version": "1", "stage": "Production"});
    let (status, _, body) = call(
        &app,
        post(
            "model-versions/transition-stage",
            &editor,
            transition.clone(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error_code"], "RESOURCE_CONFLICT");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("the production gate refuses moving gm version 1 to Production"),
        "{message}"
    );
    assert!(
        message.contains("domain:safety needs 2 (managed) and is unknown"),
        "{message}"
    );
    let (_, _, body) = get(&app, "/api/2.0/mlflow/model-versions/get?name=gm&version=1").await;
    assert!(
        body.contains(r#""current_stage":"None""#),
        "nothing moved: {body}"
    );

    // An alias whose name says production is gated the same way; a development alias is not.
    let alias = |name: &str| serde_json::json!({"name": "gm", "alias": name, "version": "1"});
    let (status, _, body) = call(
        &app,
        post("registered-models/alias", &editor, alias("champion")),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("pointing gm@champion (production) at version 1"),
        "{body}"
    );
    let (status, _, body) = call(
        &app,
        post("registered-models/alias", &editor, alias("nightly")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The override travels in a header: an editor's is refused, an admin's passes and is kept.
    let with_reason = |token: &str, reason: &str| {
        let mut request = post("model-versions/transition-stage", token, transition.clone());
        request.headers_mut().insert(
            "x-modelgov-override-reason",
            http::HeaderValue::from_str(reason).unwrap(),
        );
        request
    };
    let (status, _, body) = call(&app, with_reason(&editor, "hotfix")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = call(&app, with_reason(&admin, "hotfix for incident 9")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""current_stage":"Production""#), "{body}");
    let history = history_of(&app, "mlflow/gm").await;
    assert!(history.contains("gate_overridden"), "{history}");
    assert!(history.contains("hotfix for incident 9"), "{history}");
}

#[sqlx::test]
async fn server_functions_enforce_the_same_gates_and_roles(pool: PgPool) {
    let app = gated_app(pool.clone());
    registry(&pool, &app).await;
    recompute_gated(&pool).await;
    let editor = token(&pool, "ana", Role::Editor).await;
    let admin = token(&pool, "root", Role::Admin).await;
    let mut seen = Seen::default();
    let ed = sign_in(&mut seen, &app, &editor).await;
    let ed_csrf = csrf(&mut seen, &app, &ed).await;
    let promote = format!(
        r#"{{"csrf":"{ed_csrf}","op":{{"op":"promote","deployment":{D},"to":"staging"}}}}"#
    );
    let (status, _, body) = seen
        .call(&app, json_fn("/api/fn/operate", &ed, &promote))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("domain:safety needs 1 (basic)"), "{body}");

    // The editor asks; deciding is an admin's.
    let (status, _, body) = seen
        .call(
            &app,
            json_fn(
                "/api/fn/request_exemption",
                &ed,
                &format!(
                    r#"{{"csrf":"{ed_csrf}","exemption":{}}}"#,
                    ask(M, "domain:safety", &in_days(30))
                ),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let decide = |csrf: &str, decision: &str| {
        format!(r#"{{"csrf":"{csrf}","id":{id},"decision":"{decision}","expires_at":null}}"#)
    };
    let (status, _, body) = seen
        .call(
            &app,
            json_fn(
                "/api/fn/decide_exemption",
                &ed,
                &decide(&ed_csrf, "approve"),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let root = sign_in(&mut seen, &app, &admin).await;
    let root_csrf = csrf(&mut seen, &app, &root).await;
    let (status, _, body) = seen
        .call(
            &app,
            json_fn(
                "/api/fn/decide_exemption",
                &root,
                &decide(&root_csrf, "dance"),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("not one of approve, renew, revoke"), "{body}");
    let (status, _, body) = seen
        .call(
            &app,
            json_fn(
                "/api/fn/decide_exemption",
                &root,
                &decide(&root_csrf, "approve"),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = seen
        .call(&app, json_fn("/api/fn/operate", &ed, &promote))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Production also needs security: refused; an editor cannot override it, an admin can.
    let to_production = |csrf: &str, reason: Option<&str>| {
        let reason = reason.map_or_else(String::new, |r| format!(r#","override_reason":"{r}""#));
        format!(
            r#"{{"csrf":"{csrf}","op":{{"op":"promote","deployment":{D},"to":"production"{reason}}}}}"#
        )
    };
    let (status, _, body) = seen
        .call(
            &app,
            json_fn("/api/fn/operate", &ed, &to_production(&ed_csrf, None)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("domain:security needs 2 (managed)"), "{body}");
    let (status, _, body) = seen
        .call(
            &app,
            json_fn(
                "/api/fn/operate",
                &ed,
                &to_production(&ed_csrf, Some("ship it")),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = seen
        .call(
            &app,
            json_fn(
                "/api/fn/operate",
                &root,
                &to_production(&root_csrf, Some("the audit accepted the risk")),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("gate overridden: the audit accepted the risk"),
        "{body}"
    );
    assert_eq!(deployment(&pool).await.0, "production");

    // The model page's panel reads both through one call.
    let (status, _, body) = call(
        &app,
        Request::post("/api/fn/get_model_governance")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(format!(r#"{{"model":{M}}}"#)))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let governance: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(governance["gates"][0]["passes"], true, "{body}");
    assert_eq!(governance["exemptions"][0]["status"], "active", "{body}");
}
