//! The MLflow model registry REST API under `/api/2.0/mlflow/`: the calls MLflow's own Python
//! client makes for registered models, versions, stages, tags and aliases, with MLflow's error
//! shape (`error_code`, `message`) and statuses (docs/interop-wire-notes.md has what the client
//! sends and expects). Every write is mirrored into the graph in its transaction: registered
//! models are model sources, versions model binaries (with the run that produced them), and the
//! Staging and Production stages and every alias deployments. Compiled only with `ssr`.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::error::AppError;
use crate::model::record::{AssetKind, AssetRecord, EdgeRecord, Outcome, Record, Ref};
use crate::model::role::Role;
use crate::server::auth::Bearer;
use crate::server::ingest::apply;
use crate::server::ingest::parse::Item;
use crate::server::intake;
use crate::server::state::AppState;

/// The source system MLflow's assets are filed under.
const SOURCE: &str = "mlflow";
const MAX_BODY: usize = 1024 * 1024;
/// Largest body of a read sent by POST (get-latest-versions: a name and stages).
const MAX_READ_BODY: usize = 16 * 1024;
const STAGES: [&str; 4] = ["None", "Staging", "Production", "Archived"];

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/2.0/mlflow/{*call}", any(dispatch))
}

/// An error as MLflow's client reads it: the `error_code` decides the exception.
#[derive(Debug)]
struct MlflowError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl MlflowError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "INVALID_PARAMETER_VALUE",
            message: message.into(),
        }
    }

    fn missing(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "RESOURCE_DOES_NOT_EXIST",
            message: message.into(),
        }
    }
}

impl IntoResponse for MlflowError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(json!({ "error_code": self.code, "message": self.message })),
        )
            .into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(1));
        }
        response
    }
}

impl From<AppError> for MlflowError {
    fn from(error: AppError) -> Self {
        let (status, code) = match &error {
            AppError::BadRequest(_) | AppError::Conflict(_) => {
                (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE")
            }
            AppError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "INVALID_PARAMETER_VALUE")
            }
            AppError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "INVALID_PARAMETER_VALUE",
            ),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST"),
            AppError::Unavailable | AppError::Busy => {
                (StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE")
            }
            AppError::TooManyRequests(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "REQUEST_LIMIT_EXCEEDED")
            }
            AppError::Internal | AppError::Transport(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
            }
        };
        Self {
            status,
            code,
            message: error.to_string(),
        }
    }
}

impl From<sqlx::Error> for MlflowError {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}

type Answer = Result<Value, MlflowError>;

/// Reads the call's arguments (the query for GET, the JSON body otherwise), checks the token for
/// writes, and runs the call in one transaction.
async fn dispatch(
    State(state): State<AppState>,
    method: Method,
    Path(call): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match run(&state, &method, &call, query, &headers, body).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn run(
    state: &AppState,
    method: &Method,
    call: &str,
    query: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Answer {
    // Writes are the calls that change the registry (get-latest-versions is a read sent by POST);
    // their caller is known before a byte of the body is read.
    let write = *method != Method::GET && call != "registered-models/get-latest-versions";
    let actor = if write {
        let bearer = bearer(headers)?;
        Some(bearer.check(&state.pool, Role::Editor).await?.actor())
    } else {
        None
    };
    let _body;
    let args = if *method == Method::GET {
        query_args(query.as_deref().unwrap_or(""))
    } else {
        // A read sent by POST is small, and stays out of the writes' budget: nobody can spend
        // it without a token.
        let read = if write {
            intake::read(&state.intake, headers, body, MAX_BODY, "the body").await?
        } else {
            intake::read(
                &intake::Budget::new(2 * MAX_READ_BODY),
                headers,
                body,
                MAX_READ_BODY,
                "the body",
            )
            .await?
        };
        let args = if read.bytes.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(&read.bytes)
                .map_err(|e| MlflowError::invalid(format!("the body is not JSON: {e}")))?
        };
        _body = read;
        args
    };
    if let Some(path) = crate::model::text::find_nul(&args) {
        return Err(MlflowError::invalid(format!(
            "{path} must not contain the NUL character"
        )));
    }
    let mut tx = state.pool.begin().await?;
    let conn: &mut PgConnection = &mut tx;
    let answer = match (method.as_str(), call) {
        ("POST", "registered-models/create") => {
            create_model(conn, actor_of(actor.as_ref()), &args).await
        }
        ("GET", "registered-models/get") => get_model(conn, &args).await,
        ("PATCH", "registered-models/update") => {
            update_model(conn, actor_of(actor.as_ref()), &args).await
        }
        ("DELETE", "registered-models/delete") => {
            delete_model(conn, actor_of(actor.as_ref()), &args).await
        }
        ("GET", "registered-models/search") => search_models(conn, &args).await,
        ("POST" | "GET", "registered-models/get-latest-versions") => latest(conn, &args).await,
        ("POST", "registered-models/set-tag") => {
            set_model_tag(conn, actor_of(actor.as_ref()), &args, true).await
        }
        ("DELETE", "registered-models/delete-tag") => {
            set_model_tag(conn, actor_of(actor.as_ref()), &args, false).await
        }
        ("POST", "registered-models/alias") => {
            set_alias(conn, actor_of(actor.as_ref()), &args).await
        }
        ("GET", "registered-models/alias") => get_by_alias(conn, &args).await,
        ("DELETE", "registered-models/alias") => {
            delete_alias(conn, actor_of(actor.as_ref()), &args).await
        }
        ("POST", "model-versions/create") => {
            create_version(conn, actor_of(actor.as_ref()), &args).await
        }
        ("GET", "model-versions/get") => get_version(conn, &args).await,
        ("GET", "model-versions/get-download-uri") => download_uri(conn, &args).await,
        ("PATCH", "model-versions/update") => update_version(conn, &args).await,
        ("DELETE", "model-versions/delete") => {
            delete_version(conn, actor_of(actor.as_ref()), &args).await
        }
        ("GET", "model-versions/search") => search_versions(conn, &args).await,
        ("POST", "model-versions/transition-stage") => {
            transition(conn, actor_of(actor.as_ref()), &args).await
        }
        ("POST", "model-versions/set-tag") => set_version_tag(conn, &args, true).await,
        ("DELETE", "model-versions/delete-tag") => set_version_tag(conn, &args, false).await,
        _ => Err(MlflowError {
            status: StatusCode::NOT_FOUND,
            code: "ENDPOINT_NOT_FOUND",
            message: format!("modelgov does not serve {method} /api/2.0/mlflow/{call}"),
        }),
    };
    match answer {
        Ok(answer) => {
            tx.commit().await?;
            if write {
                state.recomputer.request();
            }
            Ok(answer)
        }
        Err(error) => {
            tx.rollback().await?;
            Err(error)
        }
    }
}

fn actor_of(actor: Option<&String>) -> &str {
    actor.map_or("mlflow", String::as_str)
}

fn bearer(headers: &HeaderMap) -> Result<Bearer, MlflowError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            MlflowError::from(AppError::Unauthorized(
                "send a token: set MLFLOW_TRACKING_TOKEN".into(),
            ))
        })?;
    Ok(Bearer(value.trim().to_string()))
}

/// A query string as MLflow's client sends it: repeated keys become arrays.
fn query_args(query: &str) -> Value {
    let mut args = serde_json::Map::new();
    for (key, value) in url_pairs(query) {
        match args.get_mut(&key) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(value)]);
            }
            None => {
                args.insert(key, Value::String(value));
            }
        }
    }
    Value::Object(args)
}

/// The pairs of a query string, `+` and `%XX` decoded (invalid UTF-8 replaced).
fn url_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Most characters of a name, alias, tag key or other one-line argument (MLflow's own limit for
/// entity keys is 250).
const MAX_KEY_CHARS: usize = 250;
/// Most characters of a tag value, a version's source or run link.
const MAX_VALUE_CHARS: usize = 5_000;
/// Most characters of a search filter.
const MAX_FILTER_CHARS: usize = 2_000;
/// The furthest a page token reaches.
const MAX_OFFSET: i64 = 1_000_000_000;
/// Most clauses of a search filter.
const MAX_FILTER_CLAUSES: usize = 20;

/// Checks an argument's text by what it is: one line and bounded, a description may hold lines.
fn checked(key: &str, value: &str) -> Result<(), MlflowError> {
    use crate::model::text::{Lines, check_text};
    let (most, lines) = match key {
        "description" => (crate::model::record::MAX_DESCRIPTION_CHARS, Lines::Many),
        "value" => (MAX_VALUE_CHARS, Lines::Many),
        "source" | "run_link" | "page_token" => (MAX_VALUE_CHARS, Lines::One),
        "filter" => (MAX_FILTER_CHARS, Lines::One),
        _ => (MAX_KEY_CHARS, Lines::One),
    };
    check_text(key, value, most, lines).map_err(MlflowError::invalid)
}

fn text(args: &Value, key: &str) -> Result<String, MlflowError> {
    match args.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            checked(key, s)?;
            Ok(s.clone())
        }
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(MlflowError::invalid(format!(
            "missing value for required parameter '{key}'"
        ))),
    }
}

fn optional(args: &Value, key: &str) -> Result<Option<String>, MlflowError> {
    match args.get(key) {
        Some(Value::String(s)) => {
            checked(key, s)?;
            Ok(Some(s.clone()))
        }
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        _ => Ok(None),
    }
}

fn version_of(args: &Value) -> Result<i32, MlflowError> {
    let raw = text(args, "version")?;
    raw.trim()
        .parse::<i32>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            MlflowError::invalid(format!(
                "Parameter 'version' must be an integer, got '{raw}'."
            ))
        })
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn tags_json(tags: &Value) -> Value {
    Value::Array(
        tags.as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| json!({"key": k, "value": v.as_str().unwrap_or_default()}))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// Tags as sent (`[{key, value}]`) into an object.
fn tags_in(args: &Value) -> Result<Value, MlflowError> {
    let mut tags = serde_json::Map::new();
    if let Some(list) = args.get("tags").and_then(Value::as_array) {
        for tag in list {
            let key = text(tag, "key")?;
            let value = optional(tag, "value")?.unwrap_or_default();
            tags.insert(key, Value::String(value));
        }
    }
    Ok(Value::Object(tags))
}

fn canonical_stage(stage: &str) -> Result<&'static str, MlflowError> {
    STAGES
        .into_iter()
        .find(|s| s.eq_ignore_ascii_case(stage.trim()))
        .ok_or_else(|| {
            MlflowError::invalid(format!(
                "stage {stage:?} is not one of None, Staging, Production, Archived"
            ))
        })
}

// ---- reads --------------------------------------------------------------------------------------

async fn model_row(conn: &mut PgConnection, name: &str) -> Result<Value, MlflowError> {
    models_json(conn, &[name.to_string()])
        .await?
        .pop()
        .ok_or_else(|| MlflowError::missing(format!("Registered Model with name={name} not found")))
}

/// Registered models as the API shows them, in the order of `names` (those that exist), in three
/// statements whatever their number: the models, their newest version per stage, their aliases.
async fn models_json(conn: &mut PgConnection, names: &[String]) -> Result<Vec<Value>, MlflowError> {
    let rows = sqlx::query!(
        r#"
        SELECT m.name, m.description, m.tags, m.created_ms, m.updated_ms
        FROM unnest($1::text[]) WITH ORDINALITY AS w(name, i)
        JOIN mlflow_models m ON m.name = w.name
        ORDER BY w.i
        "#,
        names,
    )
    .fetch_all(&mut *conn)
    .await?;
    // Per model and stage, the newest version: one index probe each (mlflow_versions_stage).
    let latest = sqlx::query_as!(
        VersionRow,
        r#"
        SELECT l.name, l.version, l.source, l.run_id, l.run_link, l.description, l.stage, l.tags,
               l.created_ms, l.updated_ms,
               coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM mlflow_aliases a
                         WHERE a.name = l.name AND a.version = l.version), '{}') AS "aliases!"
        FROM unnest($1::text[]) AS n(name)
        CROSS JOIN (VALUES ('Archived'), ('None'), ('Production'), ('Staging')) AS s(stage)
        CROSS JOIN LATERAL (
            SELECT v.* FROM mlflow_versions v
            WHERE v.name = n.name AND v.stage = s.stage
            ORDER BY v.version DESC LIMIT 1
        ) l
        "#,
        names,
    )
    .fetch_all(&mut *conn)
    .await?;
    let aliases = sqlx::query!(
        "SELECT name, alias, version FROM mlflow_aliases WHERE name = ANY($1) ORDER BY name, alias",
        names,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut latest_by_model: std::collections::HashMap<&str, Vec<_>> =
        std::collections::HashMap::new();
    for v in &latest {
        latest_by_model.entry(v.name.as_str()).or_default().push(v);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let latest: Vec<Value> = latest_by_model
                .get(row.name.as_str())
                .into_iter()
                .flatten()
                .map(|v| version_json(v))
                .collect();
            let aliases: Vec<Value> = aliases
                .iter()
                .filter(|a| a.name == row.name)
                .map(|a| json!({"alias": a.alias, "version": a.version.to_string()}))
                .collect();
            json!({
                "name": row.name,
                "creation_timestamp": row.created_ms,
                "last_updated_timestamp": row.updated_ms,
                "description": row.description,
                "tags": tags_json(&row.tags),
                "latest_versions": latest,
                "aliases": aliases,
            })
        })
        .collect())
}

/// A version's row with its aliases.
#[derive(sqlx::FromRow)]
struct VersionRow {
    name: String,
    version: i32,
    source: String,
    run_id: String,
    run_link: String,
    description: String,
    stage: String,
    tags: Value,
    created_ms: i64,
    updated_ms: i64,
    aliases: Vec<String>,
}

/// A model version as MLflow's client reads it: `version` a string, times in milliseconds, and
/// always `READY` (modelgov registers at once; anything else makes the client wait).
fn version_json(v: &VersionRow) -> Value {
    json!({
        "name": v.name, "version": v.version.to_string(),
        "creation_timestamp": v.created_ms, "last_updated_timestamp": v.updated_ms,
        "user_id": "", "current_stage": v.stage, "description": v.description,
        "source": v.source, "run_id": v.run_id, "run_link": v.run_link,
        "status": "READY", "tags": tags_json(&v.tags), "aliases": v.aliases,
    })
}

/// Versions as the API shows them, for `name` (and `version`), newest first.
async fn versions(
    conn: &mut PgConnection,
    filter_name: Option<&str>,
    like: Option<&str>,
    version: Option<i32>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Value>, MlflowError> {
    let rows = sqlx::query_as!(
        VersionRow,
        r#"
        SELECT v.name, v.version, v.source, v.run_id, v.run_link, v.description, v.stage, v.tags,
               v.created_ms, v.updated_ms,
               coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM mlflow_aliases a
                         WHERE a.name = v.name AND a.version = v.version), '{}') AS "aliases!"
        FROM mlflow_versions v
        WHERE ($1::text IS NULL OR v.name = $1) AND ($2::text IS NULL OR v.name LIKE $2)
          AND ($3::int IS NULL OR v.version = $3)
        ORDER BY v.name, v.version DESC
        LIMIT $4 OFFSET $5
        "#,
        filter_name,
        like,
        version,
        limit,
        offset,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(version_json).collect())
}

async fn version_row(
    conn: &mut PgConnection,
    name: &str,
    version: i32,
) -> Result<Value, MlflowError> {
    versions(conn, Some(name), None, Some(version), 1, 0)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            MlflowError::missing(format!(
                "Model Version (name={name}, version={version}) not found"
            ))
        })
}

/// The newest version in each stage (of `stages`, or all that have one).
async fn latest_per_stage(
    conn: &mut PgConnection,
    name: &str,
    stages: Option<Vec<&'static str>>,
) -> Result<Vec<Value>, MlflowError> {
    let rows = sqlx::query!(
        r#"
        SELECT DISTINCT ON (stage) version FROM mlflow_versions
        WHERE name = $1 AND ($2::text[] IS NULL OR stage = ANY($2))
        ORDER BY stage, version DESC
        "#,
        name,
        stages
            .as_ref()
            .map(|s| s.iter().map(ToString::to_string).collect::<Vec<_>>())
            as Option<Vec<String>>,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        out.push(version_row(conn, name, row.version).await?);
    }
    Ok(out)
}

async fn get_model(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    Ok(json!({ "registered_model": model_row(conn, &name).await? }))
}

async fn get_version(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    Ok(json!({ "model_version": version_row(conn, &name, version_of(args)?).await? }))
}

/// Where a version's artifacts are: its source, as MLflow answers for a registry without an
/// artifact store of its own.
async fn download_uri(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    let row = version_row(conn, &name, version).await?;
    Ok(json!({ "artifact_uri": row["source"] }))
}

async fn latest(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    model_exists(conn, &name).await?;
    let stages = match args.get("stages") {
        None => None,
        Some(Value::String(s)) => Some(vec![canonical_stage(s)?]),
        Some(Value::Array(list)) => Some(
            list.iter()
                .map(|s| canonical_stage(s.as_str().unwrap_or_default()))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(MlflowError::invalid("stages must be a list of stage names")),
    };
    let stages = stages.filter(|s| !s.is_empty());
    Ok(json!({ "model_versions": latest_per_stage(conn, &name, stages).await? }))
}

async fn get_by_alias(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let alias = text(args, "alias")?;
    model_exists(conn, &name).await?;
    let version = sqlx::query_scalar!(
        "SELECT version FROM mlflow_aliases WHERE name = $1 AND alias = $2",
        name,
        alias
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| MlflowError::invalid(format!("Registered model alias {alias} not found.")))?;
    Ok(json!({ "model_version": version_row(conn, &name, version).await? }))
}

/// One clause of a search filter: `attribute op 'value'`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub attribute: String,
    pub op: String,
    pub value: String,
}

/// Parses MLflow's search filters: clauses joined by AND, each `name`, `run_id` or
/// `tag.<key>` (key in backticks when dotted), compared with =, !=, LIKE or ILIKE to a quoted
/// string.
/// At most [`MAX_FILTER_CLAUSES`] clauses of [`MAX_FILTER_CHARS`] characters in all.
pub fn parse_filter(filter: &str) -> Result<Vec<Clause>, String> {
    let bad = |why: &str| format!("bad filter {filter:?}: {why}");
    if filter.chars().count() > MAX_FILTER_CHARS {
        return Err(format!(
            "the filter is longer than {MAX_FILTER_CHARS} characters"
        ));
    }
    let mut clauses = Vec::new();
    let mut rest = filter.trim();
    while !rest.is_empty() {
        if clauses.len() == MAX_FILTER_CLAUSES {
            return Err(format!(
                "the filter has more than {MAX_FILTER_CLAUSES} clauses"
            ));
        }
        // attribute
        let (attribute, after) = if let Some(tag) = rest
            .strip_prefix("tag.`")
            .or_else(|| rest.strip_prefix("tags.`"))
        {
            let end = tag.find('`').ok_or_else(|| bad("an unclosed backtick"))?;
            (format!("tag.{}", &tag[..end]), &tag[end + 1..])
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || "=!<>".contains(c))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            let attribute = match word {
                "name" | "run_id" => word.to_string(),
                // A version's source, as MLflow's version search names it.
                "source_path" => "source".to_string(),
                w if w.starts_with("tag.") || w.starts_with("tags.") => {
                    format!(
                        "tag.{}",
                        w.split_once('.').map(|(_, k)| k).unwrap_or_default()
                    )
                }
                _ => {
                    return Err(bad(&format!(
                        "{word:?} is not name, run_id, source_path or tags.<key>"
                    )));
                }
            };
            (attribute, &rest[end..])
        };
        let after = after.trim_start();
        let (op, after) = ["!=", "=", "ILIKE ", "LIKE ", "ilike ", "like "]
            .iter()
            .find_map(|op| {
                after
                    .strip_prefix(op)
                    .map(|a| (op.trim().to_ascii_uppercase(), a))
            })
            .ok_or_else(|| bad("expected =, !=, LIKE or ILIKE"))?;
        let after = after.trim_start();
        let quote = after
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"')
            .ok_or_else(|| bad("values are quoted strings"))?;
        let body = &after[1..];
        let end = body.find(quote).ok_or_else(|| bad("an unclosed quote"))?;
        clauses.push(Clause {
            attribute,
            op,
            value: body[..end].to_string(),
        });
        rest = body[end + 1..].trim_start();
        if !rest.is_empty() {
            rest = rest
                .strip_prefix("AND ")
                .or_else(|| rest.strip_prefix("and "))
                .ok_or_else(|| bad("clauses are joined by AND"))?
                .trim_start();
        }
    }
    Ok(clauses)
}

/// Adds `AND <clause>` to `query` for each clause, comparing in SQL: `name` and `run_id` are
/// columns of the row, `tag.<key>` its tag (a missing tag equals nothing and differs from
/// everything, as in MLflow).
fn push_clauses(query: &mut QueryBuilder<'_, Postgres>, clauses: &[Clause]) {
    for clause in clauses {
        query.push(" AND ");
        match clause.attribute.strip_prefix("tag.") {
            Some(key) => {
                query.push("(tags->>");
                query.push_bind(key.to_string());
                query.push(")");
            }
            None if clause.attribute == "run_id" => {
                query.push("run_id");
            }
            None if clause.attribute == "source" => {
                query.push("source");
            }
            None => {
                query.push("name");
            }
        }
        let (op, pattern) = match clause.op.as_str() {
            "=" => (" = ", false),
            "!=" => (" IS DISTINCT FROM ", false),
            "ILIKE" => (" ILIKE ", true),
            _ => (" LIKE ", true),
        };
        query.push(op);
        query.push_bind(clause.value.clone());
        // `%` and `_` are the only wildcards; a backslash is a character like any other.
        if pattern {
            query.push(" ESCAPE ''");
        }
    }
}

fn page(args: &Value, default: i64, most: i64) -> Result<(i64, i64), MlflowError> {
    let limit = match optional(args, "max_results")? {
        None => default,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=most).contains(n))
            .ok_or_else(|| {
                MlflowError::invalid(format!("max_results must be 1-{most}, not {raw}"))
            })?,
    };
    let offset = match optional(args, "page_token")?.filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => token
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=MAX_OFFSET).contains(n))
            .ok_or_else(|| {
                MlflowError::invalid(format!("page_token {token:?} is not one modelgov gave"))
            })?,
    };
    Ok((limit, offset))
}

/// The columns registered models are ordered by, as MLflow names them.
const MODEL_ORDERS: &[(&str, &str)] = &[
    ("name", "name"),
    ("timestamp", "created_ms"),
    ("creation_timestamp", "created_ms"),
    ("last_updated_timestamp", "updated_ms"),
];
/// The columns model versions are ordered by, as MLflow names them.
const VERSION_ORDERS: &[(&str, &str)] = &[
    ("name", "v.name"),
    ("version_number", "v.version"),
    ("timestamp", "v.created_ms"),
    ("creation_timestamp", "v.created_ms"),
    ("last_updated_timestamp", "v.updated_ms"),
];

/// The SQL order of a search's `order_by` (each `column [ASC|DESC]`, at most three), then
/// `default` to break ties; an unknown column is refused naming the ones there are.
fn order_by(
    args: &Value,
    columns: &[(&str, &'static str)],
    default: &'static str,
) -> Result<String, MlflowError> {
    let asked: Vec<String> = match args.get("order_by") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| MlflowError::invalid("order_by takes strings"))?,
        Some(_) => return Err(MlflowError::invalid("order_by takes strings")),
    };
    if asked.len() > 3 {
        return Err(MlflowError::invalid(
            "order_by takes at most 3 columns".to_string(),
        ));
    }
    let mut parts = Vec::new();
    for clause in asked.iter().filter(|c| !c.trim().is_empty()) {
        checked("order_by", clause)?;
        let mut words = clause.split_whitespace();
        let column = words.next().unwrap_or_default();
        let direction = match words.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => "ASC",
            Some("DESC") => "DESC",
            Some(other) => {
                return Err(MlflowError::invalid(format!(
                    "Invalid order_by clause '{clause}': {other} is not ASC or DESC"
                )));
            }
        };
        if words.next().is_some() {
            return Err(MlflowError::invalid(format!(
                "Invalid order_by clause '{clause}'"
            )));
        }
        let sql = columns
            .iter()
            .find(|(name, _)| *name == column)
            .map(|(_, sql)| *sql)
            .ok_or_else(|| {
                MlflowError::invalid(format!(
                    "Invalid order_by clause '{clause}': order by one of {}",
                    columns
                        .iter()
                        .map(|(name, _)| *name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        parts.push(format!("{sql} {direction}"));
    }
    parts.push(default.to_string());
    Ok(parts.join(", "))
}

fn filter_of(args: &Value) -> Result<Vec<Clause>, MlflowError> {
    parse_filter(&optional(args, "filter")?.unwrap_or_default()).map_err(MlflowError::invalid)
}

/// Registered models by the filter, by name; the matching is done by Postgres, a page at a time.
async fn search_models(conn: &mut PgConnection, args: &Value) -> Answer {
    let clauses = filter_of(args)?;
    if let Some(c) = clauses
        .iter()
        .find(|c| c.attribute == "run_id" || c.attribute == "source")
    {
        return Err(MlflowError::invalid(format!(
            "registered models are searched by name or tags, not {}",
            c.attribute
        )));
    }
    let (limit, offset) = page(args, 100, 1000)?;
    let mut query = QueryBuilder::<Postgres>::new("SELECT name FROM mlflow_models WHERE TRUE");
    push_clauses(&mut query, &clauses);
    query.push(" ORDER BY ");
    query.push(order_by(args, MODEL_ORDERS, "name")?);
    query.push(" LIMIT ");
    query.push_bind(limit + 1);
    query.push(" OFFSET ");
    query.push_bind(offset);
    let mut names: Vec<String> = query.build_query_scalar().fetch_all(&mut *conn).await?;
    let more = page_of(&mut names, limit);
    let models = models_json(conn, &names).await?;
    Ok(paged("registered_models", models, more, offset + limit))
}

/// Model versions by the filter (name, `run_id`, tags), by name and newest version first.
async fn search_versions(conn: &mut PgConnection, args: &Value) -> Answer {
    let clauses = filter_of(args)?;
    // MLflow's documented limits: 10,000 by default, at most 200,000.
    let (limit, offset) = page(args, 10_000, 200_000)?;
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT v.name, v.version, v.source, v.run_id, v.run_link, v.description, v.stage, \
                v.tags, v.created_ms, v.updated_ms, \
                coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM mlflow_aliases a \
                          WHERE a.name = v.name AND a.version = v.version), '{}') AS aliases \
         FROM mlflow_versions v WHERE TRUE",
    );
    push_clauses(&mut query, &clauses);
    query.push(" ORDER BY ");
    query.push(order_by(args, VERSION_ORDERS, "v.name, v.version DESC")?);
    query.push(" LIMIT ");
    query.push_bind(limit + 1);
    query.push(" OFFSET ");
    query.push_bind(offset);
    let mut found: Vec<VersionRow> = query.build_query_as().fetch_all(&mut *conn).await?;
    let more = page_of(&mut found, limit);
    let versions = found.iter().map(version_json).collect();
    Ok(paged("model_versions", versions, more, offset + limit))
}

/// Cuts `rows` (read with one row more than `limit`) to the page; true when there is more.
fn page_of<T>(rows: &mut Vec<T>, limit: i64) -> bool {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    more
}

/// A page of a search as MLflow answers it: the items, and the token of the next page if any.
fn paged(key: &str, items: Vec<Value>, more: bool, next: i64) -> Value {
    let mut answer = json!({ key: items });
    if more {
        answer["next_page_token"] = Value::String(next.to_string());
    }
    answer
}

// ---- writes -------------------------------------------------------------------------------------

async fn model_exists(conn: &mut PgConnection, name: &str) -> Result<(), MlflowError> {
    let found = sqlx::query_scalar!("SELECT 1 FROM mlflow_models WHERE name = $1", name)
        .fetch_optional(&mut *conn)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| MlflowError::missing(format!("Registered Model with name={name} not found")))
}

/// Writes `records` into the graph as `actor`; a record the graph refuses fails the call.
async fn mirror(
    conn: &mut PgConnection,
    actor: &str,
    records: Vec<Record>,
) -> Result<(), MlflowError> {
    let items = Item::numbered(records);
    let results = apply::apply_in(&mut *conn, actor, &items).await?;
    if let Some(refused) = results.iter().find(|r| r.status == Outcome::Rejected) {
        return Err(MlflowError::invalid(format!(
            "the graph refused it: {}",
            refused.error.clone().unwrap_or_default()
        )));
    }
    Ok(())
}

fn asset(id: String, kind: AssetKind, name: String) -> AssetRecord {
    AssetRecord {
        source: SOURCE.into(),
        id,
        kind: Some(kind),
        name,
        ..AssetRecord::default()
    }
}

fn tag_map(tags: &Value) -> BTreeMap<String, String> {
    tags.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The registered model as a model source.
async fn mirror_model(conn: &mut PgConnection, actor: &str, name: &str) -> Result<(), MlflowError> {
    let row = sqlx::query!(
        "SELECT description, tags FROM mlflow_models WHERE name = $1",
        name
    )
    .fetch_one(&mut *conn)
    .await?;
    let mut record = asset(name.to_string(), AssetKind::ModelSource, name.to_string());
    record.description = Some(row.description);
    record.tags = Some(tag_map(&row.tags));
    mirror(conn, actor, vec![Record::Asset(record)]).await
}

/// The Staging and Production deployments of `name`: each serves the newest version in its
/// stage, and is retired (keeping its last binary) when none is left there.
async fn mirror_stages(
    conn: &mut PgConnection,
    actor: &str,
    name: &str,
) -> Result<(), MlflowError> {
    let mut records = Vec::new();
    for (stage, status) in [("Staging", "staging"), ("Production", "production")] {
        let newest = sqlx::query_scalar!(
            "SELECT max(version) FROM mlflow_versions WHERE name = $1 AND stage = $2",
            name,
            stage
        )
        .fetch_one(&mut *conn)
        .await?;
        let id = format!("{name}@{stage}");
        let exists = sqlx::query_scalar!(
            "SELECT 1 FROM assets WHERE source = $1 AND external_id = $2",
            SOURCE,
            id
        )
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
        let mut deployment = asset(
            id.clone(),
            AssetKind::Deployment,
            format!("{name} ({stage})"),
        );
        match newest {
            Some(version) => {
                deployment.status = Some(status.into());
                records.push(Record::Asset(deployment));
                records.push(Record::Edge(EdgeRecord {
                    from: Ref {
                        source: SOURCE.into(),
                        id: format!("{name}/{version}"),
                    },
                    to: Ref {
                        source: SOURCE.into(),
                        id,
                    },
                }));
            }
            None if exists => {
                deployment.status = Some("retired".into());
                records.push(Record::Asset(deployment));
            }
            None => {}
        }
    }
    mirror(conn, actor, records).await
}

/// The stage an alias's deployment is in, read from the alias's name: the names teams give
/// what serves traffic are production, the names of what is about to are staging, any other
/// alias is development.
fn alias_status(alias: &str) -> &'static str {
    match alias.to_ascii_lowercase().as_str() {
        "production" | "prod" | "champion" | "live" => "production",
        "staging" | "stage" | "challenger" | "candidate" => "staging",
        _ => "development",
    }
}

/// The alias deployments of `name` (`<name>@alias:<alias>`): each serves the version its alias
/// points at, with the status its name says; one whose alias is gone is retired (keeping its last
/// binary).
async fn mirror_aliases(
    conn: &mut PgConnection,
    actor: &str,
    name: &str,
) -> Result<(), MlflowError> {
    let prefix = format!("{name}@alias:");
    let aliases = sqlx::query!(
        "SELECT alias, version FROM mlflow_aliases WHERE name = $1",
        name
    )
    .fetch_all(&mut *conn)
    .await?;
    let deployed = sqlx::query_scalar!(
        r#"
        SELECT external_id FROM assets
        WHERE source = $1 AND kind = 'deployment' AND starts_with(external_id, $2)
          AND status <> 'retired'
        "#,
        SOURCE,
        prefix,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut records = Vec::new();
    for a in &aliases {
        let id = format!("{prefix}{}", a.alias);
        let mut deployment = asset(
            id.clone(),
            AssetKind::Deployment,
            format!("{name} (@{})", a.alias),
        );
        deployment.status = Some(alias_status(&a.alias).into());
        records.push(Record::Asset(deployment));
        records.push(Record::Edge(EdgeRecord {
            from: Ref {
                source: SOURCE.into(),
                id: format!("{name}/{}", a.version),
            },
            to: Ref {
                source: SOURCE.into(),
                id,
            },
        }));
    }
    for id in deployed {
        let alias = &id[prefix.len()..];
        if !aliases.iter().any(|a| a.alias == alias) {
            let mut deployment = asset(
                id.clone(),
                AssetKind::Deployment,
                format!("{name} (@{alias})"),
            );
            deployment.status = Some("retired".into());
            records.push(Record::Asset(deployment));
        }
    }
    mirror(conn, actor, records).await
}

async fn create_model(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let tags = tags_in(args)?;
    let now = now_ms();
    let inserted = sqlx::query!(
        r#"
        INSERT INTO mlflow_models (name, description, tags, created_ms, updated_ms)
        VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING
        "#,
        name,
        optional(args, "description")?.unwrap_or_default(),
        tags,
        now,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(MlflowError {
            status: StatusCode::BAD_REQUEST,
            code: "RESOURCE_ALREADY_EXISTS",
            message: format!("Registered Model (name={name}) already exists."),
        });
    }
    mirror_model(conn, actor, &name).await?;
    Ok(json!({ "registered_model": model_row(conn, &name).await? }))
}

async fn update_model(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    model_exists(conn, &name).await?;
    if let Some(description) = optional(args, "description")? {
        sqlx::query!(
            "UPDATE mlflow_models SET description = $2, updated_ms = $3 WHERE name = $1",
            name,
            description,
            now_ms()
        )
        .execute(&mut *conn)
        .await?;
        mirror_model(conn, actor, &name).await?;
    }
    Ok(json!({ "registered_model": model_row(conn, &name).await? }))
}

/// Removes the model from the registry; the graph keeps its model source and binaries (their
/// history is the audit trail).
async fn delete_model(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    model_exists(conn, &name).await?;
    sqlx::query!("DELETE FROM mlflow_models WHERE name = $1", name)
        .execute(&mut *conn)
        .await?;
    // Nothing is in a stage or behind an alias any more: its deployments are retired.
    mirror_stages(conn, actor, &name).await?;
    mirror_aliases(conn, actor, &name).await?;
    Ok(json!({}))
}

async fn set_model_tag(conn: &mut PgConnection, actor: &str, args: &Value, set: bool) -> Answer {
    let name = text(args, "name")?;
    let key = text(args, "key")?;
    model_exists(conn, &name).await?;
    if set {
        let value = optional(args, "value")?.unwrap_or_default();
        sqlx::query!(
            "UPDATE mlflow_models SET tags = tags || jsonb_build_object($2::text, $3::text), updated_ms = $4 WHERE name = $1",
            name, key, value, now_ms()
        )
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE mlflow_models SET tags = tags - $2::text, updated_ms = $3 WHERE name = $1",
            name,
            key,
            now_ms()
        )
        .execute(&mut *conn)
        .await?;
    }
    mirror_model(conn, actor, &name).await?;
    Ok(json!({}))
}

async fn create_version(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let source = optional(args, "source")?.unwrap_or_default();
    let run_id = optional(args, "run_id")?.unwrap_or_default();
    model_exists(conn, &name).await?;
    // The model's counter gives the number (and holds the row: one version at a time).
    let next = sqlx::query_scalar!(
        "UPDATE mlflow_models SET next_version = next_version + 1 WHERE name = $1 RETURNING next_version - 1 AS \"n!\"",
        name
    )
    .fetch_one(&mut *conn)
    .await?;
    let now = now_ms();
    let version = sqlx::query_scalar!(
        r#"
        INSERT INTO mlflow_versions (name, version, source, run_id, run_link, description, tags, created_ms, updated_ms)
        VALUES ($1, $8, $2, $3, $4, $5, $6, $7, $7)
        RETURNING version
        "#,
        name,
        source,
        run_id,
        optional(args, "run_link")?.unwrap_or_default(),
        optional(args, "description")?.unwrap_or_default(),
        tags_in(args)?,
        now,
        next,
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE mlflow_models SET updated_ms = $2 WHERE name = $1",
        name,
        now
    )
    .execute(&mut *conn)
    .await?;
    let binary = format!("{name}/{version}");
    let mut records = vec![Record::Asset({
        let mut b = asset(
            binary.clone(),
            AssetKind::ModelBinary,
            format!("{name} v{version}"),
        );
        b.description = optional(args, "description")?;
        b.tags = Some(BTreeMap::from([(
            "mlflow.source".to_string(),
            source.clone(),
        )]));
        b
    })];
    if !run_id.is_empty() {
        // The run that produced it, executed by the model source.
        records.push(Record::Asset(asset(
            format!("run:{run_id}"),
            AssetKind::WorkflowRun,
            format!("{name} run {}", run_id.chars().take(8).collect::<String>()),
        )));
        let run = Ref {
            source: SOURCE.into(),
            id: format!("run:{run_id}"),
        };
        records.push(Record::Edge(EdgeRecord {
            from: Ref {
                source: SOURCE.into(),
                id: name.clone(),
            },
            to: run.clone(),
        }));
        records.push(Record::Edge(EdgeRecord {
            from: run,
            to: Ref {
                source: SOURCE.into(),
                id: binary,
            },
        }));
    }
    mirror(conn, actor, records).await?;
    Ok(json!({ "model_version": version_row(conn, &name, version).await? }))
}

async fn update_version(conn: &mut PgConnection, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    version_row(conn, &name, version).await?;
    if let Some(description) = optional(args, "description")? {
        sqlx::query!(
            "UPDATE mlflow_versions SET description = $3, updated_ms = $4 WHERE name = $1 AND version = $2",
            name, version, description, now_ms()
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({ "model_version": version_row(conn, &name, version).await? }))
}

async fn delete_version(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    version_row(conn, &name, version).await?;
    sqlx::query!(
        "DELETE FROM mlflow_versions WHERE name = $1 AND version = $2",
        name,
        version
    )
    .execute(&mut *conn)
    .await?;
    touch_model(conn, &name, now_ms()).await?;
    // Its aliases went with it (as in MLflow).
    mirror_stages(conn, actor, &name).await?;
    mirror_aliases(conn, actor, &name).await?;
    Ok(json!({}))
}

async fn transition(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    let stage = canonical_stage(&text(args, "stage")?)?;
    let archive = args
        .get("archive_existing_versions")
        .is_some_and(|v| v.as_bool().unwrap_or(v.as_str() == Some("true")));
    if archive && !matches!(stage, "Staging" | "Production") {
        return Err(MlflowError::invalid(format!(
            "archive_existing_versions can be true only with Staging or Production, not {stage}"
        )));
    }
    version_row(conn, &name, version).await?;
    let now = now_ms();
    if archive {
        sqlx::query!(
            "UPDATE mlflow_versions SET stage = 'Archived', updated_ms = $4 WHERE name = $1 AND stage = $2 AND version <> $3",
            name, stage, version, now
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "UPDATE mlflow_versions SET stage = $3, updated_ms = $4 WHERE name = $1 AND version = $2",
        name,
        version,
        stage,
        now
    )
    .execute(&mut *conn)
    .await?;
    touch_model(conn, &name, now).await?;
    mirror_stages(conn, actor, &name).await?;
    Ok(json!({ "model_version": version_row(conn, &name, version).await? }))
}

/// Marks the registered model as changed at `now` (as MLflow does when one of its versions moves
/// stage or is deleted).
async fn touch_model(conn: &mut PgConnection, name: &str, now: i64) -> Result<(), MlflowError> {
    sqlx::query!(
        "UPDATE mlflow_models SET updated_ms = $2 WHERE name = $1",
        name,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn set_version_tag(conn: &mut PgConnection, args: &Value, set: bool) -> Answer {
    let name = text(args, "name")?;
    let version = version_of(args)?;
    let key = text(args, "key")?;
    version_row(conn, &name, version).await?;
    if set {
        sqlx::query!(
            "UPDATE mlflow_versions SET tags = tags || jsonb_build_object($3::text, $4::text), updated_ms = $5 WHERE name = $1 AND version = $2",
            name, version, key, optional(args, "value")?.unwrap_or_default(), now_ms()
        )
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE mlflow_versions SET tags = tags - $3::text, updated_ms = $4 WHERE name = $1 AND version = $2",
            name, version, key, now_ms()
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({}))
}

async fn set_alias(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let alias = text(args, "alias")?;
    let version = version_of(args)?;
    if alias.eq_ignore_ascii_case("latest")
        || (alias.starts_with('v') && alias[1..].parse::<u64>().is_ok())
    {
        return Err(MlflowError::invalid(format!("alias {alias:?} is reserved")));
    }
    version_row(conn, &name, version).await?;
    sqlx::query!(
        r#"
        INSERT INTO mlflow_aliases (name, alias, version) VALUES ($1, $2, $3)
        ON CONFLICT (name, alias) DO UPDATE SET version = EXCLUDED.version
        "#,
        name,
        alias,
        version
    )
    .execute(&mut *conn)
    .await?;
    mirror_aliases(conn, actor, &name).await?;
    Ok(json!({}))
}

async fn delete_alias(conn: &mut PgConnection, actor: &str, args: &Value) -> Answer {
    let name = text(args, "name")?;
    let alias = text(args, "alias")?;
    model_exists(conn, &name).await?;
    sqlx::query!(
        "DELETE FROM mlflow_aliases WHERE name = $1 AND alias = $2",
        name,
        alias
    )
    .execute(&mut *conn)
    .await?;
    mirror_aliases(conn, actor, &name).await?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_names_its_deployment_stage() {
        assert_eq!(alias_status("champion"), "production");
        assert_eq!(alias_status("Prod"), "production");
        assert_eq!(alias_status("challenger"), "staging");
        assert_eq!(alias_status("nightly"), "development");
    }

    #[test]
    fn filters_parse_as_the_client_writes_them() {
        let clauses =
            parse_filter("name LIKE 'm%' AND tag.`mlflow.prompt.is_prompt` != 'true'").unwrap();
        assert_eq!(clauses.len(), 2);
        assert_eq!(clauses[1].attribute, "tag.mlflow.prompt.is_prompt");
        assert_eq!(
            (clauses[1].op.as_str(), clauses[1].value.as_str()),
            ("!=", "true")
        );
        assert_eq!(parse_filter("name='m2'").unwrap()[0].value, "m2");
        assert!(parse_filter("version > 2").is_err());
        assert!(parse_filter("name = 'unclosed").is_err());
    }

    #[test]
    fn filters_are_bounded() {
        let clause = "name = 'a'";
        let twenty = vec![clause; MAX_FILTER_CLAUSES].join(" AND ");
        assert_eq!(parse_filter(&twenty).unwrap().len(), MAX_FILTER_CLAUSES);
        let more = format!("{twenty} AND {clause}");
        assert!(
            parse_filter(&more)
                .unwrap_err()
                .contains("more than 20 clauses")
        );
        let long = format!("name LIKE '{}'", "%".repeat(MAX_FILTER_CHARS));
        assert!(parse_filter(&long).unwrap_err().contains("longer than"));
    }

    #[test]
    fn query_strings_keep_repeated_keys() {
        let args = query_args("name=a%20b&order_by=name+ASC&order_by=x&page_token=eyJ%3D");
        assert_eq!(args["name"], "a b");
        assert_eq!(args["order_by"], json!(["name ASC", "x"]));
        assert_eq!(args["page_token"], "eyJ=");
    }
}
