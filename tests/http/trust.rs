//! Trusting what comes in: no work before authentication, every text field checked, caller
//! mistakes answered 4xx, one company, records waiting in quarantine with what names them,
//! compressed bodies, and every write surface asking for a recompute. (Hostile metadata on the
//! pages: escaping.rs; the MLflow API: mlflow.rs.)

use std::io::Write;

use super::*;
use axum::body::Bytes;
use modelgov::model::role::Role;

/// A body that fails if anyone reads it: a surface that answers 401/403 to it has not read it
/// (one that read it would answer that the body could not be read).
pub(super) fn unread_body() -> Body {
    Body::from_stream(futures::stream::iter(vec![Err::<Bytes, std::io::Error>(
        std::io::Error::other("the body was read"),
    )]))
}

pub(super) fn request(method: &str, uri: &str, token: Option<&str>, body: Body) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(body).unwrap()
}

/// Every write surface, as (method, path, role it needs).
const WRITES: [(&str, &str, Role); 10] = [
    ("POST", "/api/v1/records", Role::Editor),
    ("POST", "/api/v1/lineage", Role::Editor),
    ("POST", "/api/v1/operations", Role::Editor),
    ("POST", "/api/v1/recompute", Role::Editor),
    ("POST", "/api/v1/tokens", Role::Admin),
    ("PUT", "/api/v1/mappings/airflow/Run", Role::Admin),
    (
        "POST",
        "/api/2.0/mlflow/registered-models/create",
        Role::Editor,
    ),
    (
        "POST",
        "/api/2.0/mlflow/model-versions/create",
        Role::Editor,
    ),
    ("POST", "/api/fn/operate", Role::Editor),
    ("POST", "/api/fn/create_token", Role::Admin),
];

#[sqlx::test]
async fn callers_are_refused_before_their_body_is_read(pool: PgPool) {
    let app = app(pool.clone());
    let viewer = token(&pool, "reader", Role::Viewer).await;
    let editor = token(&pool, "writer", Role::Editor).await;
    for (method, uri, needed) in WRITES {
        for (who, token) in [
            ("nobody", None),
            ("an unknown token", Some("mgv_unknown")),
            ("a viewer", Some(viewer.as_str())),
            ("an editor", Some(editor.as_str())),
        ] {
            let allowed = match who {
                "a viewer" => needed == Role::Viewer,
                "an editor" => needed != Role::Admin,
                _ => false,
            };
            // Server functions go by the session, which none of these callers has.
            if allowed && !uri.starts_with("/api/fn/") {
                continue;
            }
            let (status, _, body) = call(&app, request(method, uri, token, unread_body())).await;
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
                "{method} {uri} by {who}: {status} {body}"
            );
            assert!(!body.contains("could not be read"), "{uri}: {body}");
        }
    }
    // An empty body with an unknown token is 401, not a complaint about the body.
    let (status, _, body) = call(
        &app,
        post_records(Some("mgv_unknown"), "application/x-ndjson", ""),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

pub(super) fn lineage(token: &str, body: impl Into<Body>) -> Request<Body> {
    request("POST", "/api/v1/lineage", Some(token), body.into())
}

pub(super) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

pub(super) fn gzipped(uri: &str, token: &str, content_type: &str, data: &[u8]) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_ENCODING, "gzip")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(gzip(data)))
        .unwrap()
}

pub(super) const EVENT: &str = r#"{"eventType":"COMPLETE","eventTime":"2026-11-01T10:00:00Z",
 "producer":"https://example.com/p","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
 "run":{"runId":"0192a1b2-0000-7000-8000-000000000001"},"job":{"namespace":"ns","name":"train"},
 "inputs":[],"outputs":[]}"#;

#[sqlx::test]
async fn gzip_bodies_are_read_and_a_decompression_bomb_is_refused(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", Role::Editor).await;
    let (status, _, body) = call(
        &app,
        gzipped(
            "/api/v1/records",
            &editor,
            "application/x-ndjson",
            format!("{ONE_ASSET}\n").as_bytes(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(asset_count(&pool).await, 1);

    let (status, _, body) = call(
        &app,
        gzipped(
            "/api/v1/lineage",
            &editor,
            "application/json",
            EVENT.as_bytes(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let before = asset_count(&pool).await;
    // 64 MB of blank lines, about 64 KB compressed: refused as soon as it passes 10 MB.
    let bomb = vec![b'\n'; 64 * 1024 * 1024];
    let (status, _, body) = call(
        &app,
        gzipped("/api/v1/records", &editor, "application/x-ndjson", &bomb),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("over 10 MB"), "{body}");
    for uri in [
        "/api/v1/lineage",
        "/api/2.0/mlflow/registered-models/create",
    ] {
        let (status, _, body) = call(&app, gzipped(uri, &editor, "application/json", &bomb)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{uri}: {body}");
    }

    let broken = Request::post("/api/v1/records")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .header(header::AUTHORIZATION, format!("Bearer {editor}"))
        .body(Body::from("not gzip at all"))
        .unwrap();
    let (status, _, body) = call(&app, broken).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("not valid gzip"), "{body}");
    assert_eq!(
        asset_count(&pool).await,
        before,
        "refused bodies change nothing"
    );
}

#[sqlx::test]
async fn too_many_records_in_one_request_are_refused(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", Role::Editor).await;
    let line = r#"{"type":"edge","from":{"source":"a","id":"1"},"to":{"source":"a","id":"2"}}"#;
    let body = format!("{line}\n").repeat(50_001);
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/x-ndjson", body),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("more than 50000 records"), "{body}");
}

pub(super) fn mlflow(
    method: &str,
    call: &str,
    token: &str,
    body: &serde_json::Value,
) -> Request<Body> {
    request(
        method,
        &format!("/api/2.0/mlflow/{call}"),
        Some(token),
        Body::from(body.to_string()),
    )
}

#[sqlx::test]
async fn nul_control_characters_and_overlong_fields_are_refused_naming_the_field(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", Role::Editor).await;
    let asset = |field: &str, value: serde_json::Value| {
        let mut record = serde_json::json!({
            "type": "asset", "source": "git", "id": "m", "kind": "model_source", "name": "M"
        });
        record[field] = value;
        record.to_string()
    };
    for (body, named) in [
        (asset("name", "a\u{0}b".into()), "name"),
        (asset("description", "a\u{0}b".into()), "description"),
        (
            asset("tags", serde_json::json!({"tier": "1\u{0}"})),
            "tags.tier",
        ),
        (
            asset("tags", serde_json::json!({"ti\u{0}er": "1"})),
            "a tag key",
        ),
        (asset("id", "m\u{0}".into()), "id"),
        (asset("owners", serde_json::json!(["a\u{1b}b"])), "owners"),
        (asset("status", "production\u{0}".into()), "status"),
        (asset("label", "Mo\u{0}del".into()), "label"),
    ] {
        let (status, _, answer) =
            call(&app, post_records(Some(&editor), "application/json", body)).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{named}: {answer}"
        );
        assert!(answer.contains(named), "{named}: {answer}");
    }
    // A description and a tag's value keep their lines.
    let (status, _, answer) = call(
        &app,
        post_records(
            Some(&editor),
            "application/json",
            asset("tags", serde_json::json!({"notes": "line one\nline two"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _, answer) = call(
        &app,
        post_records(
            Some(&editor),
            "application/json",
            asset("description", "line one\n\tline two".into()),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The refusals are kept for the ingestion page, NUL and all.
    let (status, _, answer) = get(&app, "/api/v1/rejections").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer.contains("must not contain the NUL character"),
        "{answer}"
    );

    // OpenLineage: anywhere in the event, facets included.
    for (pointer, value, named) in [
        (
            "/job/facets",
            serde_json::json!({"sql": {"query": "SELECT '\u{0}'"}}),
            "job.facets.sql.query",
        ),
        ("/job/name", serde_json::json!("tr\u{7}ain"), "job.name"),
    ] {
        let mut event: serde_json::Value = serde_json::from_str(EVENT).unwrap();
        event["job"]["facets"] = serde_json::json!({});
        *event.pointer_mut(pointer).unwrap() = value;
        let (status, _, answer) = call(&app, lineage(&editor, event.to_string())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(answer.contains(named), "{named}: {answer}");
    }

    // MLflow: names, descriptions, tags, a version's source; and names longer than MLflow's.
    let create =
        |body: serde_json::Value| mlflow("POST", "registered-models/create", &editor, &body);
    for (body, named) in [
        (serde_json::json!({"name": "a\u{0}"}), "name"),
        (
            serde_json::json!({"name": "a", "description": "x\u{0}"}),
            "description",
        ),
        (
            serde_json::json!({"name": "a", "tags": [{"key": "k", "value": "\u{0}"}]}),
            "value",
        ),
        (
            serde_json::json!({"name": "é".repeat(251)}),
            "name is longer than 250",
        ),
        (
            serde_json::json!({"name": "a\u{1b}"}),
            "name must not contain a control",
        ),
    ] {
        let (status, _, answer) = call(&app, create(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{named}: {answer}");
        assert!(answer.contains("INVALID_PARAMETER_VALUE"), "{answer}");
        assert!(answer.contains(named), "{named}: {answer}");
    }
    let (status, _, answer) = call(&app, create(serde_json::json!({"name": "ok"}))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _, answer) = call(
        &app,
        mlflow(
            "POST",
            "model-versions/create",
            &editor,
            &serde_json::json!({"name": "ok", "source": "s3://x\u{0}"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("source"), "{answer}");
    let long_alias = serde_json::json!({"name": "ok", "alias": "a".repeat(3000), "version": "1"});
    let (status, _, answer) = call(
        &app,
        mlflow("POST", "registered-models/alias", &editor, &long_alias),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("alias is longer than 250"), "{answer}");
}

#[sqlx::test(fixtures("../fixtures/small_tree.sql"))]
async fn malformed_server_function_calls_are_the_callers_mistake(pool: PgPool) {
    let app = app(pool);
    let form = |uri: &str, body: String| {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    for (uri, body, expected) in [
        (
            "/api/fn/get_model_page",
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/fn/search_assets",
            "text=a&offset=many".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/fn/get_model_page",
            "model=x".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/fn/list_scope_spread",
            "scope=overall&as_of=%7B%7D".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/fn/search_assets",
            format!("text={}", "a".repeat(3 * 1024 * 1024)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let (status, _, answer) = call(&app, form(uri, body)).await;
        assert_eq!(status, expected, "{uri}: {answer}");
        assert!(!answer.contains("Transport"), "{uri}: {answer}");
    }
    // A state-changing call without a session is refused before its body is looked at.
    let (status, _, answer) = call(
        &app,
        Request::post("/api/fn/operate")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"csrf":"x","op":{"op":"nonsense"}}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
}

#[sqlx::test]
async fn a_second_top_level_unit_leaves_the_company_as_it_was(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", Role::Editor).await;
    let company = r#"
{"type":"org_unit","source":"hr","id":"acme","name":"Acme"}
{"type":"org_unit","source":"hr","id":"ads","name":"Ads","parent":{"source":"hr","id":"acme"}}
{"type":"asset","source":"git","id":"owned","kind":"model_source","name":"Owned","owner":{"source":"hr","id":"ads"}}
{"type":"asset","source":"git","id":"stray","kind":"model_source","name":"Nobody's"}
"#;
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/x-ndjson", company),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Someone makes a bigger tree of their own, beside the company.
    let mut rival =
        String::from(r#"{"type":"org_unit","source":"evil","id":"top","name":"Takeover"}"#);
    for i in 0..5 {
        let child = serde_json::json!({"type": "org_unit", "source": "evil", "id": format!("c{i}"),
            "name": format!("C{i}"), "parent": {"source": "evil", "id": "top"}});
        rival.push('\n');
        rival.push_str(&child.to_string());
    }
    let (status, _, body) = call(
        &app,
        post_records(Some(&editor), "application/x-ndjson", rival),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let catalog = modelgov::server::metrics::catalog::load(None).unwrap();
    modelgov::server::metrics::recompute(&pool, &catalog)
        .await
        .unwrap();

    let (status, _, body) = get(&app, "/api/v1/scorecard").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let card: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(card["unit"]["external_id"], "acme", "{body}");
    let (_, _, page) = get(&app, "/").await;
    assert!(
        page.contains("Acme") && !page.contains("Takeover ·"),
        "{page}"
    );

    // The model nobody owns counts once more, at the company only.
    let (status, _, rollups) = get(&app, "/api/v1/export/rollups.ndjson").await;
    assert_eq!(status, StatusCode::OK, "{rollups}");
    let overall = |unit: &str| -> u64 {
        rollups
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .find(|row| row["unit"]["id"] == unit && row["scope"] == "overall")
            .map_or(0, |row| {
                row["counts"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|n| n.as_u64().unwrap())
                    .sum()
            })
    };
    assert_eq!(overall("acme"), 2, "its own model and the unowned one");
    assert_eq!(overall("unowned"), 1);
    assert_eq!(
        overall("top"),
        0,
        "another top-level unit gets none of them"
    );
}

#[sqlx::test]
async fn an_edge_and_a_measurement_wait_in_quarantine_with_their_record(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", Role::Editor).await;
    let admin = token(&pool, "root", Role::Admin).await;
    let body = r#"
{"type":"asset","source":"git","id":"m","kind":"model_source","name":"M"}
{"type":"asset","source":"airflow","id":"run-1","label":"Pipeline Run","name":"run 1","status":"succeeded"}
{"type":"edge","from":{"source":"git","id":"m"},"to":{"source":"airflow","id":"run-1"}}
{"type":"measurement","asset":{"source":"airflow","id":"run-1"},"name":"training_energy_kwh","value":12.5,"at":"2026-11-01T00:00:00Z"}
{"type":"edge","from":{"source":"git","id":"m"},"to":{"source":"nowhere","id":"x"}}
"#;
    let (status, _, answer) = call(
        &app,
        post_records(Some(&editor), "application/x-ndjson", body),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let statuses: Vec<&str> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "created",
            "quarantined",
            "quarantined",
            "quarantined",
            "rejected"
        ]
    );
    let edges = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM edges")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(edges().await, 0);

    // A later request that names the waiting run waits too.
    let later = r#"{"type":"measurement","asset":{"source":"airflow","id":"run-1"},"name":"training_energy_kwh","value":13.0,"at":"2026-11-02T00:00:00Z"}"#;
    let (status, _, answer) =
        call(&app, post_records(Some(&editor), "application/json", later)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains("quarantined"), "{answer}");

    let mapping = Request::put("/api/v1/mappings/airflow/Pipeline%20Run")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(Body::from(r#"{"kind":"workflow_run"}"#))
        .unwrap();
    let (status, _, answer) = call(&app, mapping).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(edges().await, 1, "the edge applied with its run: {answer}");
    let values: Vec<f64> = sqlx::query_scalar(
        "SELECT m.value FROM measurements m JOIN assets a ON a.id = m.asset_id ORDER BY m.at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(values, [12.5, 13.0], "both measurements, in order");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM quarantine_dependents")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);

    // A record that waits can also leave by being sent again with a kind: what waited for it
    // applies then. An edge whose other end does not exist at all is refused, not kept.
    let body = r#"
{"type":"asset","source":"airflow","id":"run-2","label":"Job Run","name":"run 2","status":"succeeded"}
{"type":"edge","from":{"source":"git","id":"m"},"to":{"source":"airflow","id":"run-2"}}
{"type":"edge","from":{"source":"nowhere","id":"y"},"to":{"source":"airflow","id":"run-2"}}
"#;
    let (status, _, answer) = call(
        &app,
        post_records(Some(&editor), "application/x-ndjson", body),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answer}");
    assert!(
        answer.contains("the asset nowhere/y does not exist"),
        "{answer}"
    );
    let again = r#"{"type":"asset","source":"airflow","id":"run-2","kind":"workflow_run","name":"run 2","status":"succeeded"}"#;
    let (status, _, answer) =
        call(&app, post_records(Some(&editor), "application/json", again)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(edges().await, 2, "the waiting edge applied with its run");
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM quarantine")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(waiting, 0, "the run left the quarantine");
}

#[sqlx::test]
async fn concurrent_openlineage_events_share_transactions_and_get_their_own_answers(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ol", Role::Editor).await;
    // A job the graph already knows as a dataset: the event naming it is refused, alone.
    let taken = r#"{"type":"asset","source":"openlineage","id":"job:ns/taken","kind":"dataset","name":"taken"}"#;
    let (status, _, body) =
        call(&app, post_records(Some(&editor), "application/json", taken)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let event = |i: usize| {
        let mut event: serde_json::Value = serde_json::from_str(EVENT).unwrap();
        event["run"]["runId"] = format!("0192a1b2-0000-7000-8000-{i:012}").into();
        event["job"]["name"] = if i == 5 {
            "taken".into()
        } else {
            format!("train-{}", i % 3).into()
        };
        event
    };
    let calls = (0..24).map(|i| {
        let app = app.clone();
        let body = event(i).to_string();
        let editor = editor.clone();
        async move { call(&app, lineage(&editor, body)).await }
    });
    let answers = futures::future::join_all(calls).await;
    for (i, (status, _, body)) in answers.iter().enumerate() {
        let expected = if i == 5 {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::CREATED
        };
        assert_eq!(*status, expected, "{body}");
        let answer: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            answer["run"]["id"],
            format!("run:0192a1b2-0000-7000-8000-{i:012}"),
            "each request is answered with its own event"
        );
    }
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM assets WHERE kind = 'workflow_run'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(runs, 23, "the refused event left nothing behind");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM lineage_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 23);
}

#[sqlx::test]
async fn a_write_on_every_surface_asks_for_a_recompute(pool: PgPool) {
    let state = AppState::new(pool.clone(), config()).unwrap();
    let app = modelgov::server::router(state.clone());
    let editor = token(&pool, "w", Role::Editor).await;
    let admin = token(&pool, "a", Role::Admin).await;
    let graph = r#"
{"type":"asset","source":"git","id":"m","kind":"model_source","name":"M"}
{"type":"asset","source":"ci","id":"r","kind":"workflow_run","name":"r","status":"succeeded"}
{"type":"asset","source":"reg","id":"b","kind":"model_binary","name":"b"}
{"type":"asset","source":"deploy","id":"d","kind":"deployment","name":"d","status":"development"}
{"type":"edge","from":{"source":"git","id":"m"},"to":{"source":"ci","id":"r"}}
{"type":"edge","from":{"source":"ci","id":"r"},"to":{"source":"reg","id":"b"}}
{"type":"edge","from":{"source":"reg","id":"b"},"to":{"source":"deploy","id":"d"}}
"#;
    let promote = r#"{"op":"promote","deployment":{"source":"deploy","id":"d"},"to":"staging"}"#;
    let writes: Vec<(&str, Request<Body>)> = vec![
        (
            "records",
            post_records(Some(&editor), "application/x-ndjson", graph),
        ),
        ("OpenLineage", lineage(&editor, EVENT)),
        (
            "MLflow",
            mlflow(
                "POST",
                "registered-models/create",
                &editor,
                &serde_json::json!({"name": "recomputed"}),
            ),
        ),
        (
            "operations",
            request(
                "POST",
                "/api/v1/operations",
                Some(&editor),
                Body::from(promote),
            ),
        ),
        (
            "mappings",
            request(
                "PUT",
                "/api/v1/mappings/airflow/Run",
                Some(&admin),
                Body::from(r#"{"kind":"workflow_run"}"#),
            ),
        ),
    ];
    for (surface, write) in writes {
        let before = state.recomputer.requested();
        let (status, _, body) = call(&app, write).await;
        assert!(status.is_success(), "{surface}: {status} {body}");
        assert!(
            state.recomputer.requested() > before,
            "a write through {surface} asked for no recompute"
        );
    }
}
