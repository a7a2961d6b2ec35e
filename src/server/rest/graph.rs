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
use crate::model::params::{self, SearchQuery};
use crate::model::record::{AssetKind, Outcome, Record, RecordResult, Ref};
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

/// The answer to a write: how many records had each outcome, and each record's.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordsAnswer {
    summary: BTreeMap<&'static str, u64>,
    results: Vec<RecordResult>,
}

/// Writes records: one JSON object, an array, or NDJSON. 200 when every record applied, 207 when
/// some were rejected, 422 when all were.
#[utoipa::path(post, path = "/api/v1/records", tag = "graph",
    request_body(description = "one record, an array of records (application/json, at most 1 MB), or one record per line (application/x-ndjson, at most 10 MB); at most 50,000 records; may be gzip-compressed",
        content((Record = "application/json"), (String = "application/x-ndjson"))),
    responses(
        (status = 200, description = "every record applied", body = RecordsAnswer),
        (status = 207, description = "some records were rejected; the others applied", body = RecordsAnswer),
        (status = 422, description = "every record was rejected", body = RecordsAnswer),
        (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)
    ),
    security(("bearer" = [])))]
async fn post_records(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    // Who is calling comes first: nothing of the body is read for an unknown token.
    let caller = bearer.check(&state.pool, Role::Editor).await?;
    let media = crate::server::intake::media_type(&headers);
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

/// One bounded walk of the lineage from an asset.
#[utoipa::path(get, path = "/api/v1/assets/{source}/{id}/lineage", tag = "graph",
    params(("source" = String, Path, description = "the record's source system"),
        ("id" = String, Path, description = "its external id (a `/` in it written `%2F`)"),
        ("direction" = Option<Direction>, Query, description = "up, down or both (the default)"),
        ("depth" = Option<u32>, Query, minimum = 1, description = "steps to walk (default 3, at most 10)")),
    responses((status = 200, description = "the nodes and edges reached", body = crate::model::graph::Lineage), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
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

/// Every change to an asset, newest first.
#[utoipa::path(get, path = "/api/v1/assets/{source}/{id}/history", tag = "graph",
    params(("source" = String, Path, description = "the record's source system"),
        ("id" = String, Path, description = "its external id (a `/` in it written `%2F`)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "changes per page (default 50)"),
        ("before" = Option<i64>, Query, description = "only changes older than this change id")),
    responses((status = 200, description = "the changes", body = crate::model::graph::History), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
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

/// Which binary each deployment of an asset served at a time.
#[utoipa::path(get, path = "/api/v1/assets/{source}/{id}/serving", tag = "graph",
    params(("source" = String, Path, description = "the record's source system"),
        ("id" = String, Path, description = "its external id (a `/` in it written `%2F`)"), ("as_of" = Option<String>, Query, description = "an RFC 3339 time (default now)")),
    responses((status = 200, description = "the deployments and what they served", body = crate::model::graph::ServingAsOf), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_serving(
    State(state): State<AppState>,
    Path((source, id)): Path<(String, String)>,
    Query(query): Query<ServingQuery>,
) -> Result<Response, AppError> {
    let as_of = crate::model::params::as_of(query.as_of.as_deref())
        .map_err(AppError::BadRequest)?
        .unwrap_or_else(Utc::now);
    let serving = reads::serving_as_of(&state.pool, &Ref { source, id }, as_of).await?;
    Ok(Json(serving).into_response())
}

/// Assets by name and description, kind and tags.
#[utoipa::path(get, path = "/api/v1/search", tag = "graph",
    params(("q" = Option<String>, Query, max_length = 200, description = "words of the name or description"),
        ("kind" = Option<AssetKind>, Query, description = "only assets of this kind"),
        ("tag" = Option<String>, Query, description = "key:value; only assets with this tag"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "hits per page (default 20)"),
        ("offset" = Option<i64>, Query, minimum = 0, maximum = 10000, description = "hits to skip")),
    responses((status = 200, description = "a page of hits", body = crate::model::graph::SearchPage), (status = "4XX", description = "the caller's mistake, named", body = crate::error::ErrorBody),
        (status = 503, description = "the database is away or the server is busy; retry", body = crate::error::ErrorBody)))]
async fn get_search(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let mut text = String::new();
    let mut kind = None;
    let mut tags: Vec<String> = Vec::new();
    let (mut limit, mut offset) = (None, None);
    for (name, value) in pairs {
        match name.as_str() {
            "q" => text = value,
            "kind" => kind = Some(value),
            "tag" => tags.push(value),
            "limit" => limit = Some(value),
            "offset" => offset = Some(value),
            other => {
                return Err(AppError::BadRequest(format!(
                    "unknown parameter {other:?}; search takes q, kind, tag, limit, offset"
                )));
            }
        }
    }
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    let query = SearchQuery::parse(
        &text,
        kind.as_deref(),
        &tags,
        params::whole(offset.as_deref()),
        offset.as_deref(),
    )
    .map_err(AppError::BadRequest)?;
    let limit = parse_limit(limit.as_deref(), 20, 100)?;
    let page = reads::search(&state.pool, &query, limit).await?;
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
