//! Registry operations, sign-in, sessions, CSRF, roles and security headers, through the real
//! router.

use super::*;
use modelgov::model::role::Role;
use sha2::{Digest, Sha256};

/// A model `git/m` with runs r1, r2 and binaries b1, b2; another model `git/o` with run ro and
/// binary bo; deployment `deploy/d` in development serving b1.
pub(super) const REGISTRY: &str = r#"
{"type":"org_unit","source":"hr","id":"team","name":"Team"}
{"type":"asset","source":"git","id":"m","kind":"model_source","name":"M","owner":{"source":"hr","id":"team"}}
{"type":"asset","source":"git","id":"o","kind":"model_source","name":"O"}
{"type":"asset","source":"ci","id":"r1","kind":"workflow_run","name":"r1","status":"succeeded"}
{"type":"asset","source":"ci","id":"r2","kind":"workflow_run","name":"r2","status":"succeeded"}
{"type":"asset","source":"ci","id":"ro","kind":"workflow_run","name":"ro","status":"succeeded"}
{"type":"asset","source":"reg","id":"b1","kind":"model_binary","name":"m v1"}
{"type":"asset","source":"reg","id":"b2","kind":"model_binary","name":"m v2"}
{"type":"asset","source":"reg","id":"bo","kind":"model_binary","name":"o v1"}
{"type":"asset","source":"deploy","id":"d","kind":"deployment","name":"m prod","status":"development"}
{"type":"edge","from":{"source":"git","id":"m"},"to":{"source":"ci","id":"r1"}}
{"type":"edge","from":{"source":"git","id":"m"},"to":{"source":"ci","id":"r2"}}
{"type":"edge","from":{"source":"git","id":"o"},"to":{"source":"ci","id":"ro"}}
{"type":"edge","from":{"source":"ci","id":"r1"},"to":{"source":"reg","id":"b1"}}
{"type":"edge","from":{"source":"ci","id":"r2"},"to":{"source":"reg","id":"b2"}}
{"type":"edge","from":{"source":"ci","id":"ro"},"to":{"source":"reg","id":"bo"}}
{"type":"edge","from":{"source":"reg","id":"b1"},"to":{"source":"deploy","id":"d"}}
"#;

pub(super) async fn registry(pool: &PgPool, app: &Router) {
    let editor = token(pool, "loader", Role::Editor).await;
    let (status, _, body) = call(
        app,
        post_records(Some(&editor), "application/x-ndjson", REGISTRY),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains("error"), "{body}");
    recompute(pool).await;
}

pub(super) async fn recompute(pool: &PgPool) {
    let catalog = modelgov::server::metrics::catalog::load(None).unwrap();
    modelgov::server::metrics::recompute(pool, &catalog)
        .await
        .unwrap();
}

pub(super) fn operate(token: &str, op: &str) -> Request<Body> {
    Request::post("/api/v1/operations")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(op.to_string()))
        .unwrap()
}

pub(super) async fn change_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM changes")
        .fetch_one(pool)
        .await
        .unwrap()
}

pub(super) async fn deployment(pool: &PgPool) -> (String, String) {
    sqlx::query_as(
        "SELECT d.status, b.external_id FROM assets d JOIN edges e ON e.to_id = d.id JOIN assets b ON b.id = e.from_id WHERE d.external_id = 'd'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

pub(super) const D: &str = r#"{"source":"deploy","id":"d"}"#;

#[sqlx::test]
async fn registry_operations_move_deployments_and_refuse_what_the_rules_forbid(pool: PgPool) {
    let app = app(pool.clone());
    registry(&pool, &app).await;
    let editor = token(&pool, "ana", Role::Editor).await;

    // Refused moves: each names the rule and changes nothing.
    let refused = [
        (
            format!(r#"{{"op":"promote","deployment":{D},"to":"production"}}"#),
            StatusCode::CONFLICT,
            "one stage at a time",
        ),
        (
            format!(r#"{{"op":"rollback","deployment":{D}}}"#),
            StatusCode::CONFLICT,
            "no binary served it before",
        ),
        (
            format!(r#"{{"op":"deploy","deployment":{D},"binary":{{"source":"reg","id":"bo"}}}}"#),
            StatusCode::CONFLICT,
            "is a binary of model source git/o",
        ),
        (
            format!(r#"{{"op":"deploy","deployment":{D},"binary":{{"source":"reg","id":"b1"}}}}"#),
            StatusCode::CONFLICT,
            "already serves",
        ),
        (
            r#"{"op":"promote","deployment":{"source":"deploy","id":"nope"},"to":"staging"}"#.into(),
            StatusCode::NOT_FOUND,
            "no deployment deploy/nope",
        ),
        (
            r#"{"op":"promote","deployment":{"source":"reg","id":"b1"},"to":"staging"}"#.into(),
            StatusCode::CONFLICT,
            "is a model binary, not a deployment",
        ),
        (
            r#"{"op":"register","model":{"source":"git","id":"m"},"binary":{"source":"reg","id":"b3"},"run":{"source":"ci","id":"ro"},"name":"m v3"}"#.into(),
            StatusCode::CONFLICT,
            "is not a run of model source git/m",
        ),
        (
            r#"{"op":"register","model":{"source":"git","id":"m"},"binary":{"source":"reg","id":"b1"},"run":{"source":"ci","id":"r1"},"name":"again"}"#.into(),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (
            r#"{"op":"create_deployment","model":{"source":"git","id":"m"},"deployment":{"source":"deploy","id":"e"},"name":"E","binary":{"source":"reg","id":"bo"}}"#.into(),
            StatusCode::CONFLICT,
            "is a binary of model source git/o, not of git/m",
        ),
        (
            r#"{"op":"launch","deployment":{"source":"deploy","id":"d"}}"#.into(),
            StatusCode::BAD_REQUEST,
            "unknown variant `launch`",
        ),
        (
            r#"{"op":"register","model":{"source":"git","id":"m"},"binary":{"source":"reg","id":""},"run":{"source":"ci","id":"r1"},"name":"x"}"#.into(),
            StatusCode::BAD_REQUEST,
            "binary.id must not be empty",
        ),
        ("{not json".into(), StatusCode::BAD_REQUEST, "send {"),
    ];
    let before = change_count(&pool).await;
    for (op, expected, says) in &refused {
        let (status, _, body) = call(&app, operate(&editor, op)).await;
        assert_eq!(status, *expected, "{op}: {body}");
        assert!(body.contains(says), "{op}: {body}");
    }
    assert_eq!(
        change_count(&pool).await,
        before,
        "refused moves change nothing"
    );
    assert_eq!(deployment(&pool).await, ("development".into(), "b1".into()));

    // Only editors operate.
    let viewer = token(&pool, "vic", Role::Viewer).await;
    let promote_to = |stage: &str| format!(r#"{{"op":"promote","deployment":{D},"to":"{stage}"}}"#);
    let promote = promote_to("staging");
    assert_eq!(
        call(&app, operate(&viewer, &promote)).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _, _) = call(
        &app,
        Request::post("/api/v1/operations")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(promote.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // development -> staging -> production, one transaction and one history row each.
    let (status, _, body) = call(
        &app,
        operate(&editor, &format!(r#"{{"op":"promote","deployment":{D}}}"#)),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a promotion names its stage: {body}"
    );
    for stage in ["staging", "production"] {
        let (status, _, body) = call(&app, operate(&editor, &promote_to(stage))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(&format!(r#""status":"{stage}""#)), "{body}");
    }
    let (status, _, body) = call(&app, operate(&editor, &promote_to("production"))).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a retried promotion is refused"
    );
    assert!(body.contains("already in production"), "{body}");

    // Deploy b2, then roll back to b1.
    let (status, _, body) = call(
        &app,
        operate(
            &editor,
            &format!(r#"{{"op":"deploy","deployment":{D},"binary":{{"source":"reg","id":"b2"}}}}"#),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(deployment(&pool).await, ("production".into(), "b2".into()));
    let (status, _, body) = call(
        &app,
        operate(&editor, &format!(r#"{{"op":"rollback","deployment":{D}}}"#)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("rolled back m prod from m v2 to m v1"),
        "{body}"
    );
    assert_eq!(deployment(&pool).await, ("production".into(), "b1".into()));
    // Rolling back again goes further back, and there is nothing before b1.
    let (status, _, body) = call(
        &app,
        operate(&editor, &format!(r#"{{"op":"rollback","deployment":{D}}}"#)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("no binary served it before"), "{body}");

    // Register a binary from a run of the model, serve it from a new deployment.
    let (status, _, body) = call(
        &app,
        operate(
            &editor,
            r#"{"op":"register","model":{"source":"git","id":"m"},"binary":{"source":"reg","id":"b3"},"run":{"source":"ci","id":"r2"},"name":"m v3"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = call(
        &app,
        operate(
            &editor,
            r#"{"op":"create_deployment","model":{"source":"git","id":"m"},"deployment":{"source":"deploy","id":"e"},"name":"m canary","binary":{"source":"reg","id":"b3"}}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""status":"development""#), "{body}");
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT u.external_id FROM assets a JOIN org_units u ON u.id = a.owner_unit_id WHERE a.external_id = 'b3'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        owner.as_deref(),
        Some("team"),
        "a registered binary is the model's team's"
    );

    // Retire: then nothing moves it.
    let (status, _, _) = call(
        &app,
        operate(&editor, &format!(r#"{{"op":"retire","deployment":{D}}}"#)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (op, says) in [
        (
            format!(r#"{{"op":"retire","deployment":{D}}}"#),
            "already retired",
        ),
        (promote.clone(), "retired deployment cannot be promoted"),
        (
            format!(r#"{{"op":"deploy","deployment":{D},"binary":{{"source":"reg","id":"b2"}}}}"#),
            "is retired",
        ),
    ] {
        let (status, _, body) = call(&app, operate(&editor, &op)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body.contains(says), "{body}");
    }

    // The model's history tells the story, with who did it.
    let (status, _, body) = get(&app, "/api/v1/assets/git/m/history?limit=50").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for said in [
        "promoted m prod from development to staging",
        "promoted m prod from staging to production",
        "deployed m v2 to m prod (was m v1)",
        "rolled back m prod from m v2 to m v1",
        "registered binary m v3 from run r2",
        "created deployment m canary in development, serving m v3",
        "retired m prod (was in production)",
    ] {
        assert!(body.contains(said), "{said} in {body}");
    }
    assert!(body.contains("token:ana"), "{body}");

    // The ingestion page says what each source wrote last, and who sent it.
    let (status, _, page) = get(&app, "/ingestion").await;
    assert_eq!(status, StatusCode::OK);
    let sources = &page[page.find(r#"data-testid="sources""#).unwrap()..];
    let sources = &sources[..sources.find("</table>").unwrap()];
    assert!(
        sources.contains("<td>deploy</td>") && sources.contains("token:ana"),
        "{sources}"
    );
    assert!(
        sources.contains("<td>hr</td>") || sources.contains("<td>git</td>"),
        "{sources}"
    );
}

// ---- sign-in, sessions, CSRF ----

fn promote_fn_rest() -> String {
    format!(r#"{{"op":"promote","deployment":{D},"to":"production"}}"#)
}

pub(super) fn form(uri: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("modelgov_session={cookie}"));
    }
    request.body(Body::from(body.to_string())).unwrap()
}

pub(super) fn json_fn(uri: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, format!("modelgov_session={cookie}"))
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Every answer a test saw, to check that no token or hash ever appears in one.
#[derive(Default)]
pub(super) struct Seen(Vec<String>);

impl Seen {
    pub(super) async fn call(
        &mut self,
        app: &Router,
        request: Request<Body>,
    ) -> (StatusCode, http::HeaderMap, String) {
        let answer = call(app, request).await;
        let headers: Vec<String> = answer
            .1
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("")))
            .collect();
        self.0.push(format!("{}\n{}", headers.join("\n"), answer.2));
        answer
    }

    fn never_contains(&self, secret: &str) {
        let hash = hex::encode(Sha256::digest(secret.as_bytes()));
        for answer in &self.0 {
            assert!(!answer.contains(secret), "a token leaked: {answer}");
            assert!(!answer.contains(&hash), "a token's hash leaked: {answer}");
        }
    }
}

pub(super) async fn sign_in(seen: &mut Seen, app: &Router, token: &str) -> String {
    let (status, headers, body) = seen
        .call(
            app,
            form("/api/fn/sign_in", None, &format!("token={token}")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http locally: {cookie}");
    cookie
        .trim_start_matches("modelgov_session=")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

pub(super) async fn csrf(seen: &mut Seen, app: &Router, cookie: &str) -> String {
    let (status, _, body) = seen
        .call(app, json_fn("/api/fn/whoami", cookie, "{}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    me["csrf"].as_str().unwrap().to_string()
}

fn promote_fn(csrf: &str) -> String {
    format!(r#"{{"csrf":"{csrf}","op":{{"op":"promote","deployment":{D},"to":"staging"}}}}"#)
}

#[sqlx::test]
async fn sessions_carry_roles_and_csrf_and_end_with_their_token(pool: PgPool) {
    let app = app(pool.clone());
    registry(&pool, &app).await;
    let editor = token(&pool, "ed", Role::Editor).await;
    let viewer = token(&pool, "vi", Role::Viewer).await;
    let admin = token(&pool, "root", Role::Admin).await;
    let mut seen = Seen::default();

    // A wrong token is refused without saying more.
    let (status, headers, body) = seen
        .call(&app, form("/api/fn/sign_in", None, "token=mgv_wrong"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("unknown or revoked"), "{body}");
    assert!(!headers.contains_key(header::SET_COOKIE));

    let ed = sign_in(&mut seen, &app, &editor).await;
    let ed_csrf = csrf(&mut seen, &app, &ed).await;

    // The model page shows an editor the operations, and a viewer none.
    let model_page = |cookie: &str| {
        Request::get("/models/git/m")
            .header(header::COOKIE, format!("modelgov_session={cookie}"))
            .body(Body::empty())
            .unwrap()
    };
    let (status, headers, body) = seen.call(&app, model_page(&ed)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Promote to staging"),
        "an editor sees the operations"
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let vi = sign_in(&mut seen, &app, &viewer).await;
    let (_, _, body) = seen.call(&app, model_page(&vi)).await;
    assert!(body.contains("m prod"), "a viewer sees the deployments");
    for button in [
        "Promote to",
        "Roll back",
        "Retire",
        "Create in development",
        "Register",
    ] {
        assert!(!body.contains(button), "a viewer sees no {button:?} button");
    }
    let (_, _, anonymous) = seen
        .call(
            &app,
            Request::get("/models/git/m").body(Body::empty()).unwrap(),
        )
        .await;
    assert!(!anonymous.contains("Promote to") && anonymous.contains("Sign in"));

    // CSRF: the session's secret or nothing.
    let before = change_count(&pool).await;
    let (status, _, body) = seen
        .call(&app, json_fn("/api/fn/operate", &ed, &promote_fn("forged")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("CSRF"), "{body}");
    let vi_csrf = csrf(&mut seen, &app, &vi).await;
    let (status, _, body) = seen
        .call(&app, json_fn("/api/fn/operate", &vi, &promote_fn(&vi_csrf)))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a viewer cannot operate: {body}"
    );
    assert!(body.contains("editor role"), "{body}");
    // A write from another site is refused before anything else, session or not.
    let mut cross = json_fn("/api/fn/operate", &ed, &promote_fn(&ed_csrf));
    cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    let (status, _, body) = seen.call(&app, cross).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("cross-site"), "{body}");
    assert_eq!(
        change_count(&pool).await,
        before,
        "refused changes change nothing"
    );

    let (status, _, body) = seen
        .call(&app, json_fn("/api/fn/operate", &ed, &promote_fn(&ed_csrf)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("promoted m prod from development to staging"),
        "{body}"
    );
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM changes WHERE subject = 'operation' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(actor, "token:ed");

    // Admin pages and functions are for admins.
    let (status, _, _) = seen
        .call(&app, json_fn("/api/fn/get_admin_page", &ed, "{}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let root = sign_in(&mut seen, &app, &admin).await;
    let root_csrf = csrf(&mut seen, &app, &root).await;
    let (status, _, body) = seen
        .call(
            &app,
            form(
                "/api/fn/create_token",
                Some(&root),
                &format!("csrf={root_csrf}&name=new-bot&role=editor"),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let new_token = created["token"].as_str().unwrap().to_string();
    assert!(new_token.starts_with("mgv_"));
    seen.0.pop(); // the one answer that shows a token: its creation
    let (status, _, body) = seen
        .call(&app, json_fn("/api/fn/get_admin_page", &root, "{}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("new-bot") && body.contains(r#""role":"editor""#),
        "{body}"
    );
    let (_, _, page) = seen
        .call(
            &app,
            Request::get("/admin")
                .header(header::COOKIE, format!("modelgov_session={root}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(page.contains("new-bot") && page.contains("Create token"));

    // Revoking a token ends its sessions and its API use.
    let (status, _, body) = seen
        .call(
            &app,
            form(
                "/api/fn/revoke_token",
                Some(&root),
                &format!("csrf={root_csrf}&name=ed"),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, headers, body) = seen.call(&app, json_fn("/api/fn/whoami", &ed, "{}")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "null"));
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"),
        "the ended session's cookie is removed"
    );
    let (status, _, _) = seen
        .call(&app, json_fn("/api/fn/operate", &ed, &promote_fn(&ed_csrf)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = seen.call(&app, operate(&editor, &promote_fn_rest())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Sign-out ends the session.
    let (status, headers, _) = seen
        .call(
            &app,
            form(
                "/api/fn/sign_out",
                Some(&root),
                &format!("csrf={root_csrf}"),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (_, _, body) = seen
        .call(&app, json_fn("/api/fn/whoami", &root, "{}"))
        .await;
    assert_eq!(body, "null");

    // Token listings over the API name tokens, never their secrets.
    let admin2 = token(&pool, "root2", Role::Admin).await;
    let (status, _, body) = seen
        .call(
            &app,
            Request::get("/api/v1/tokens")
                .header(header::AUTHORIZATION, format!("Bearer {admin2}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains(r#""name":"ed""#) && body.contains("revoked_at"),
        "{body}"
    );

    for secret in [&editor, &viewer, &admin, &new_token, &admin2] {
        seen.never_contains(secret);
    }
}

#[sqlx::test]
async fn sign_in_attempts_are_rate_limited(pool: PgPool) {
    let app = app(pool);
    for _ in 0..10 {
        let (status, _, _) = call(&app, form("/api/fn/sign_in", None, "token=mgv_guess")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, body) =
        call(&app, form("/api/fn/sign_in", None, "token=mgv_guess")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.contains_key(header::RETRY_AFTER));
}

#[sqlx::test(fixtures("../fixtures/small_tree.sql"))]
async fn every_answer_carries_the_security_headers(pool: PgPool) {
    let app = app(pool);
    let mut nonces = Vec::new();
    let mut seen = Vec::new();
    for uri in [
        "/",
        "/",
        "/models/git/m1",
        "/api/v1/catalog",
        "/nope",
        "/healthz",
    ] {
        let (status, headers, body) = get(&app, uri).await;
        seen.push(format!(
            "{uri} {status} {} bytes, scripts: {}",
            body.len(),
            body.contains("<script")
        ));
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{uri}");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin", "{uri}");
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{uri}: {policy}");
        assert!(policy.contains("'wasm-unsafe-eval'"), "{uri}: {policy}");
        let scripts = policy
            .split("script-src")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap();
        assert!(!scripts.contains("unsafe-inline"), "{uri}: {policy}");
        if body.contains("<script") {
            // Every inline script carries the nonce the policy names.
            let nonce = policy
                .split("'nonce-")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
                .unwrap_or_else(|| panic!("{uri}: no nonce in {policy}"));
            let scripts = body.matches("<script").count();
            let with_nonce = body.matches(&format!("nonce=\"{nonce}\"")).count();
            assert!(
                with_nonce >= scripts - body.matches("<script src").count(),
                "{uri}"
            );
            assert!(with_nonce > 0, "{uri}");
            nonces.push(nonce.to_string());
        }
    }
    assert_eq!(
        nonces.len(),
        4,
        "the pages: {nonces:?}, the answers: {seen:#?}"
    );
    assert_ne!(
        nonces[0], nonces[1],
        "a cached page is served with a fresh nonce"
    );
}

#[sqlx::test(fixtures("../fixtures/small_tree.sql"))]
async fn reading_can_require_signing_in(pool: PgPool) {
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some("postgres://unused".into()),
        "MODELGOV_ANONYMOUS_READ" => Some("false".into()),
        _ => None,
    })
    .unwrap();
    let app = server::router(AppState::new(pool.clone(), config).unwrap());
    recompute(&pool).await;
    let (status, headers, _) = get(&app, "/models/git/m1?as_of=x").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/signin?next=%2Fmodels%2Fgit%2Fm1%3Fas_of%3Dx"
    );
    for uri in ["/api/v1/catalog", "/api/v1/scorecard"] {
        let (status, _, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}: {body}");
    }
    let (status, _, _) = call(
        &app,
        Request::post("/api/fn/get_unit_page")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for uri in ["/signin", "/healthz", "/readyz"] {
        assert_eq!(get(&app, uri).await.0, StatusCode::OK, "{uri}");
    }
    let viewer = token(&pool, "reader", Role::Viewer).await;
    let (status, _, _) = call(
        &app,
        Request::get("/api/v1/catalog")
            .header(header::AUTHORIZATION, format!("Bearer {viewer}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut seen = Seen::default();
    let session = sign_in(&mut seen, &app, &viewer).await;
    let (status, _, body) = call(
        &app,
        Request::get("/models/git/m1")
            .header(header::COOKIE, format!("modelgov_session={session}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("reader"), "the header names who is signed in");
}
