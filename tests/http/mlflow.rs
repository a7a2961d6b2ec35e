//! The MLflow API answers as MLflow's own server does, and its searches are bounded and matched
//! by Postgres.

use super::trust::{mlflow, request};
use super::*;
use modelgov::model::role::Role;

#[sqlx::test]
async fn mlflow_searches_are_bounded_and_matched_in_the_database(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", Role::Editor).await;
    for name in ["alpha", "alp_x", "beta", "back\\slash"] {
        let body = serde_json::json!({"name": name, "tags": [{"key": "team", "value": "t1"}]});
        let (status, _, answer) = call(
            &app,
            mlflow("POST", "registered-models/create", &editor, &body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let search = |filter: &str, max: &str| {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", filter)
            .append_pair("max_results", max)
            .finish();
        format!("/api/2.0/mlflow/registered-models/search?{query}")
    };
    let names = |answer: &str| -> Vec<String> {
        let value: serde_json::Value = serde_json::from_str(answer).unwrap();
        value["registered_models"]
            .as_array()
            .map(|models| {
                models
                    .iter()
                    .map(|m| m["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    for (filter, expected) in [
        ("name LIKE 'alp%'", vec!["alp_x", "alpha"]),
        ("name LIKE 'alp\\_%'", vec![]),
        ("name ILIKE 'ALP_X'", vec!["alp_x", "alpha"][..1].to_vec()),
        ("name LIKE 'back\\%'", vec!["back\\slash"]),
        (
            "tags.team = 't1' AND name != 'beta'",
            vec!["alp_x", "alpha", "back\\slash"],
        ),
        ("tag.`missing` != 'x' AND name = 'beta'", vec!["beta"]),
    ] {
        let (status, _, answer) = get(&app, &search(filter, "100")).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {answer}");
        assert_eq!(names(&answer), expected, "{filter}");
    }
    // Paged: one at a time, each page says where the next starts.
    let (_, _, first) = get(&app, &search("", "1")).await;
    let token = serde_json::from_str::<serde_json::Value>(&first).unwrap()["next_page_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, second) = get(&app, &format!("{}&page_token={token}", search("", "1"))).await;
    assert_eq!(names(&first), ["alp_x"]);
    assert_eq!(names(&second), ["alpha"]);

    let many = vec!["name = 'a'"; 21].join(" AND ");
    let long = format!("name LIKE '{}'", "%".repeat(2_000));
    for (uri, says) in [
        (search(&many, "10"), "more than 20 clauses"),
        (search(&long, "10"), "longer than 2000"),
        (search("", "1001"), "max_results"),
        (
            search("run_id = 'r'", "10"),
            "Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'",
        ),
    ] {
        let (status, _, answer) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{says}: {answer}");
        assert!(answer.contains(says), "{says}: {answer}");
    }
    // A read sent by POST takes a small body, and no write budget.
    let big = serde_json::json!({"name": "alpha", "pad": "x".repeat(20 * 1024)});
    let (status, _, answer) = call(
        &app,
        request(
            "POST",
            "/api/2.0/mlflow/registered-models/get-latest-versions",
            None,
            Body::from(big.to_string()),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    let versions = format!(
        "/api/2.0/mlflow/model-versions/search?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", &many)
            .finish()
    );
    let (status, _, answer) = get(&app, &versions).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

/// MLflow's own answers for a few calls its client makes: the download URI, the version
/// number's error text, `/health`, version search by source path, and a model's update time
/// moving with its versions.
#[sqlx::test]
async fn mlflow_calls_answer_as_mlflow_does(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ml", Role::Editor).await;
    let (status, _, body) = get(&app, "/health").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "OK"));
    let create = |call: &str, body: serde_json::Value| mlflow("POST", call, &editor, &body);
    let (status, _, body) = call(
        &app,
        create("registered-models/create", serde_json::json!({"name": "m"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = call(
        &app,
        create(
            "model-versions/create",
            serde_json::json!({"name": "m", "source": "s3://bucket/m/1"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = get(
        &app,
        "/api/2.0/mlflow/model-versions/get-download-uri?name=m&version=1",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"artifact_uri": "s3://bucket/m/1"})
    );
    let (status, _, body) = get(
        &app,
        "/api/2.0/mlflow/model-versions/get?name=m&version=something%20not%20correct",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("Parameter 'version' must be an integer, got 'something not correct'."),
        "{body}"
    );
    let found = |filter: &str| {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", filter)
            .finish();
        format!("/api/2.0/mlflow/model-versions/search?{query}")
    };
    let (status, _, body) = get(&app, &found("source_path = 's3://bucket/m/1'")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"version\":\"1\""), "{body}");
    let (_, _, body) = get(&app, &found("source_path = 's3://elsewhere'")).await;
    assert!(!body.contains("\"version\""), "{body}");
    let (status, _, body) = get(&app, &found("name ILIKE 'M'")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"version\":\"1\""), "{body}");

    let updated = || async {
        let (_, _, body) = get(&app, "/api/2.0/mlflow/registered-models/get?name=m").await;
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["registered_model"]
            ["last_updated_timestamp"]
            .as_i64()
            .unwrap()
    };
    // A stage transition moves the model's update time on, as in MLflow: set it a day back first,
    // so that the test does not depend on the clock ticking between two calls.
    sqlx::query("UPDATE mlflow_models SET updated_ms = updated_ms - 86400000 WHERE name = 'm'")
        .execute(&pool)
        .await
        .unwrap();
    let before = updated().await;
    let (status, _, body) = call(
        &app,
        create(
            "model-versions/transition-stage",
            serde_json::json!({"name": "m", "version": "1", "stage": "Staging"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(updated().await > before);
}

#[sqlx::test]
async fn mlflow_searches_take_order_by_and_refuse_unknown_columns(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ml", Role::Editor).await;
    for name in ["b", "a", "c"] {
        let body = serde_json::json!({"name": name});
        let (status, _, answer) = call(
            &app,
            mlflow("POST", "registered-models/create", &editor, &body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    for version in 1..=3 {
        let body = serde_json::json!({"name": "a", "source": format!("s3://a/{version}")});
        let (status, _, answer) = call(
            &app,
            mlflow("POST", "model-versions/create", &editor, &body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let names = |body: &str, list: &str, field: &str| -> Vec<String> {
        serde_json::from_str::<serde_json::Value>(body).unwrap()[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m[field].as_str().unwrap().to_string())
            .collect()
    };
    let (status, _, body) = get(
        &app,
        "/api/2.0/mlflow/registered-models/search?order_by=name+DESC",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body, "registered_models", "name"), ["c", "b", "a"]);
    let (_, _, body) = get(&app, "/api/2.0/mlflow/registered-models/search").await;
    assert_eq!(names(&body, "registered_models", "name"), ["a", "b", "c"]);
    let (status, _, body) = get(
        &app,
        "/api/2.0/mlflow/model-versions/search?filter=name%3D%27a%27&order_by=version_number+ASC",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body, "model_versions", "version"), ["1", "2", "3"]);
    for (uri, says) in [
        (
            "/api/2.0/mlflow/registered-models/search?order_by=nonexistent",
            "Invalid order by key 'nonexistent' specified. Valid keys are '{'name', 'timestamp'}'",
        ),
        (
            "/api/2.0/mlflow/model-versions/search?order_by=nope",
            "Invalid order by key 'nope' specified. Valid keys are {'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}",
        ),
        (
            "/api/2.0/mlflow/model-versions/search?order_by=name+SIDEWAYS",
            "order_by",
        ),
        (
            "/api/2.0/mlflow/model-versions/search?order_by=a&order_by=b&order_by=c&order_by=d",
            "order_by",
        ),
    ] {
        let (status, _, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(body.contains(says), "{uri}: {body}");
    }
}

#[sqlx::test]
async fn a_renamed_registered_model_keeps_its_versions_aliases_and_graph_history(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", Role::Editor).await;
    let post = |call_name: &'static str, body: serde_json::Value| {
        let app = app.clone();
        let editor = editor.clone();
        async move { call(&app, mlflow("POST", call_name, &editor, &body)).await }
    };
    for (call_name, body) in [
        (
            "registered-models/create",
            serde_json::json!({"name": "ranker"}),
        ),
        (
            "registered-models/create",
            serde_json::json!({"name": "ranker2"}),
        ),
        (
            "model-versions/create",
            serde_json::json!({"name": "ranker", "source": "s3://b/1"}),
        ),
        (
            "model-versions/create",
            serde_json::json!({"name": "ranker2", "source": "s3://b/2"}),
        ),
        (
            "registered-models/alias",
            serde_json::json!({"name": "ranker", "alias": "champion", "version": "1"}),
        ),
    ] {
        let (status, _, answer) = post(call_name, body).await;
        assert_eq!(status, StatusCode::OK, "{call_name}: {answer}");
    }
    let ids = || async {
        sqlx::query_as::<_, (i64, String)>(
            "SELECT id, external_id FROM assets WHERE source = 'mlflow' ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let before = ids().await;

    // Taken, unknown, then done.
    let (status, _, answer) = post(
        "registered-models/rename",
        serde_json::json!({"name": "ranker", "new_name": "ranker2"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("RESOURCE_ALREADY_EXISTS"), "{answer}");
    let (status, _, answer) = post(
        "registered-models/rename",
        serde_json::json!({"name": "nope", "new_name": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, _, answer) = post(
        "registered-models/rename",
        serde_json::json!({"name": "ranker", "new_name": "feed-ranker"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains(r#""name":"feed-ranker""#), "{answer}");

    let (status, _, answer) = get(
        &app,
        "/api/2.0/mlflow/registered-models/alias?name=feed-ranker&alias=champion",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains(r#""version":"1""#), "{answer}");
    let (status, _, _) = get(&app, "/api/2.0/mlflow/registered-models/get?name=ranker").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The same assets under the new name; the other model's are untouched.
    let after = ids().await;
    assert_eq!(
        before.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        after.iter().map(|(id, _)| *id).collect::<Vec<_>>()
    );
    let keys: Vec<&str> = after.iter().map(|(_, key)| key.as_str()).collect();
    assert!(keys.contains(&"feed-ranker"), "{keys:?}");
    assert!(keys.contains(&"feed-ranker/1"), "{keys:?}");
    assert!(keys.contains(&"feed-ranker@alias:champion"), "{keys:?}");
    assert!(keys.contains(&"ranker2/1"), "{keys:?}");
    assert!(
        !keys
            .iter()
            .any(|k| k.starts_with("ranker/") || *k == "ranker"),
        "{keys:?}"
    );
    // A version created after the rename belongs to the renamed model source.
    let (status, _, answer) = post(
        "model-versions/create",
        serde_json::json!({"name": "feed-ranker", "source": "s3://b/3"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let model_sources: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assets WHERE source = 'mlflow' AND kind = 'model_source'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(model_sources, 2);
}

#[sqlx::test]
async fn one_mlflow_run_may_produce_versions_of_several_registered_models(pool: PgPool) {
    let app = app(pool.clone());
    let editor = token(&pool, "ci", Role::Editor).await;
    // The run is known to the graph first, with its times and training data (as OpenLineage or
    // the native API would tell it).
    for (call_name, body) in [
        (
            "registered-models/create",
            serde_json::json!({"name": "model"}),
        ),
        (
            "registered-models/create",
            serde_json::json!({"name": "preprocessor"}),
        ),
        (
            "model-versions/create",
            serde_json::json!({"name": "model", "source": "s3://b/m", "run_id": "r1"}),
        ),
    ] {
        let (status, _, answer) = call(&app, mlflow("POST", call_name, &editor, &body)).await;
        assert_eq!(status, StatusCode::OK, "{call_name}: {answer}");
    }
    let records = r#"{"type":"asset","source":"mlflow","id":"run:r1","kind":"workflow_run","name":"train","status":"succeeded","started_at":"2026-11-01T00:00:00Z","ended_at":"2026-11-01T01:00:00Z"}
{"type":"asset","source":"lake","id":"clicks","kind":"dataset","name":"clicks"}
{"type":"edge","from":{"source":"lake","id":"clicks"},"to":{"source":"mlflow","id":"run:r1"}}"#;
    let (status, _, answer) = call(
        &app,
        Request::post("/api/v1/records")
            .header(header::AUTHORIZATION, format!("Bearer {editor}"))
            .header(header::CONTENT_TYPE, "application/x-ndjson")
            .body(Body::from(records))
            .unwrap(),
    )
    .await;
    assert!(status.is_success(), "{answer}");

    // The same run registers a version of the second model: accepted, as in MLflow.
    let (status, _, answer) = call(
        &app,
        mlflow(
            "POST",
            "model-versions/create",
            &editor,
            &serde_json::json!({"name": "preprocessor", "source": "s3://b/p", "run_id": "r1"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains(r#""run_id":"r1""#), "{answer}");

    // In the graph: a run of its own for the second model source, with the first one's state,
    // times and training data, and the MLflow run id that links them.
    let runs: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT m.external_id, r.external_id, r.status, r.tags->>'mlflow.run_id'
         FROM assets r
         JOIN edges e ON e.to_id = r.id AND e.from_kind = 'model_source'
         JOIN assets m ON m.id = e.from_id
         WHERE r.kind = 'workflow_run' ORDER BY m.external_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        runs,
        [
            (
                "model".into(),
                "run:r1".into(),
                Some("succeeded".into()),
                Some("r1".into())
            ),
            (
                "preprocessor".into(),
                "run:r1@preprocessor".into(),
                Some("succeeded".into()),
                Some("r1".into())
            ),
        ]
    );
    let (produced_by, trained_on): (String, String) = sqlx::query_as(
        "SELECT r.external_id, d.external_id
         FROM assets b
         JOIN edges rb ON rb.to_id = b.id AND rb.to_kind = 'model_binary'
         JOIN assets r ON r.id = rb.from_id
         JOIN edges dr ON dr.to_id = r.id AND dr.from_kind = 'dataset'
         JOIN assets d ON d.id = dr.from_id
         WHERE b.source = 'mlflow' AND b.external_id = 'preprocessor/1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (produced_by.as_str(), trained_on.as_str()),
        ("run:r1@preprocessor", "clicks")
    );
    // The native API keeps its rule: a run is executed by one model source.
    let edge = r#"{"type":"edge","from":{"source":"mlflow","id":"preprocessor"},"to":{"source":"mlflow","id":"run:r1"}}"#;
    let (_, _, answer) = call(
        &app,
        Request::post("/api/v1/records")
            .header(header::AUTHORIZATION, format!("Bearer {editor}"))
            .header(header::CONTENT_TYPE, "application/x-ndjson")
            .body(Body::from(edge))
            .unwrap(),
    )
    .await;
    assert!(answer.contains("rejected"), "{answer}");
}
