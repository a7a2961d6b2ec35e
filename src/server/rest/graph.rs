//! The graph's HTTP API: ingestion, lineage, history, search, serving. Compiled only with `ssr`.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::graph::{Direction, LINEAGE_DEFAULT_DEPTH};
use crate::model::record::{AssetKind, Outcome, RecordResult, Ref};
use crate::model::role::Role;
use crate::server::auth::Bearer;
use crate::server::ingest::parse;
use crate::server::intake;
use crate::server::repo::reads;
use crate::server::state::AppState;

/// Largest JSON body `POST /api/v1/records` takes.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;
/// Largest NDJSON body `POST /api/v1/records` takes.
pub const MAX_NDJSON_BYTES: usize = 10 * 1024 * 1024;
/// Most records one request to `POST /api/v1/records` holds.
pub const MAX_RECORDS: usize = 50_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/records",
            post(post_records).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/assets/{source}/{id}/lineage", get(get_lineage))
        .route("/api/v1/assets/{source}/{id}/history", get(get_history))
        .route("/api/v1/assets/{source}/{id}/serving", get(get_serving))
        .route("/api/v1/search", get(get_search))
}

#[derive(Debug, Serialize)]
struct RecordsAnswer {
    summary: BTreeMap<&'static str, u64>,
    results: Vec<RecordResult>,
}

/// Writes records: one JSON object, an array, or NDJSON. 200 when every record applied, 207 when
/// some were rejected, 422 when all were.
async fn post_records(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    // Who is calling comes first: nothing of the body is read for an unknown token.
    let caller = bearer.check(&state.pool, Role::Editor).await?;
    let media = super::media_type(&headers);
    let (ndjson, limit) = match media.as_str() {
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            (true, MAX_NDJSON_BYTES)
        }
        "application/json" => (false, MAX_JSON_BYTES),
        other => {
            return Err(AppError::UnsupportedMediaType(format!(
                "send application/json (one record or an array) or application/x-ndjson, not {other:?}"
            )));
        }
    };
    let body = intake::read(
        &state.intake,
        &headers,
        body,
        limit,
        &format!("the body ({media})"),
    )
    .await?;
    let items = if ndjson {
        parse::ndjson(&body.bytes, MAX_RECORDS)?
    } else {
        parse::json(&body.bytes, MAX_RECORDS)?
    };
    let results = state.writes.write(&caller, items).await?;
    drop(body);

    let mut summary: BTreeMap<&'static str, u64> = BTreeMap::new();
    for result in &results {
        let name = match result.status {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Quarantined => "quarantined",
            Outcome::Rejected => "rejected",
        };
        *summary.entry(name).or_default() += 1;
    }
    let rejected = summary.get("rejected").copied().unwrap_or(0);
    let status = if rejected == 0 {
        StatusCode::OK
    } else if rejected == results.len() as u64 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok((status, Json(RecordsAnswer { summary, results })).into_response())
}

#[derive(Debug, Deserialize)]
struct LineageQuery {
    direction: Option<String>,
    depth: Option<String>,
}

async fn get_lineage(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<LineageQuery>,
) -> Result<Response, AppError> {
    let direction = match query.direction.as_deref() {
        None => Direction::Both,
        Some(value) => Direction::parse(value).ok_or_else(|| {
            AppError::BadRequest(format!("direction must be up, down or both, not {value:?}"))
        })?,
    };
    let depth = match query.depth.as_deref() {
        None => LINEAGE_DEFAULT_DEPTH,
        Some(value) => value
            .parse::<u32>()
            .ok()
            .filter(|d| *d >= 1)
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "depth must be a whole number from 1, not {value:?}"
                ))
            })?,
    };
    let lineage = reads::lineage(&state.pool, &Ref { source, id }, direction, depth).await?;
    Ok(Json(lineage).into_response())
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    limit: Option<String>,
    before: Option<String>,
}

async fn get_history(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, AppError> {
    let limit = parse_limit(query.limit.as_deref(), 50, 500)?;
    let before = query
        .before
        .as_deref()
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("before must be a change id, not {v:?}")))
        })
        .transpose()?;
    let history = reads::history(&state.pool, &Ref { source, id }, limit, before).await?;
    Ok(Json(history).into_response())
}

#[derive(Debug, Deserialize)]
struct ServingQuery {
    as_of: Option<String>,
}

async fn get_serving(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<ServingQuery>,
) -> Result<Response, AppError> {
    let as_of = super::metrics::as_of(query.as_of.as_deref())?.unwrap_or_else(Utc::now);
    let serving = reads::serving_as_of(&state.pool, &Ref { source, id }, as_of).await?;
    Ok(Json(serving).into_response())
}

async fn get_search(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let mut text = String::new();
    let mut kind = None;
    let mut tags = serde_json::Map::new();
    let (mut limit, mut offset) = (None, None);
    for (name, value) in pairs {
        match name.as_str() {
            "q" => text = value,
            "kind" if value.is_empty() => {}
            "kind" => {
                kind = Some(AssetKind::parse(&value).ok_or_else(|| {
                    AppError::BadRequest(format!("kind {value:?} is not one of feature_source, logical_feature, dataset, model_source, workflow_run, model_binary, deployment"))
                })?);
            }
            "tag" => {
                let (key, tag_value) = value.split_once(':').ok_or_else(|| {
                    AppError::BadRequest(format!("tag must be key:value, not {value:?}"))
                })?;
                tags.insert(
                    key.to_string(),
                    serde_json::Value::String(tag_value.to_string()),
                );
            }
            "limit" => limit = Some(value),
            "offset" => offset = Some(value),
            other => {
                return Err(AppError::BadRequest(format!(
                    "unknown parameter {other:?}; search takes q, kind, tag, limit, offset"
                )));
            }
        }
    }
    if text.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "q is longer than 200 characters".into(),
        ));
    }
    let limit = parse_limit(limit.as_deref(), 20, 100)?;
    let offset = match offset.as_deref() {
        None => 0,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|o| (0..=10_000).contains(o))
            .ok_or_else(|| AppError::BadRequest(format!("offset must be 0-10000, not {v:?}")))?,
    };
    let page = reads::search(
        &state.pool,
        &text,
        kind,
        &serde_json::Value::Object(tags),
        limit,
        offset,
    )
    .await?;
    Ok(Json(page).into_response())
}

fn parse_limit(value: Option<&str>, default: i64, most: i64) -> Result<i64, AppError> {
    match value {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=most).contains(n))
            .ok_or_else(|| AppError::BadRequest(format!("limit must be 1-{most}, not {v:?}"))),
    }
}
