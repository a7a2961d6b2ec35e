//! The MLflow model registry REST API under `/api/2.0/mlflow/`: the calls MLflow's own Python
//! client makes for registered models, versions, stages, tags and aliases, with MLflow's error
//! shape (`error_code`, `message`) and statuses (docs/interop-wire-notes.md has what the client
//! sends and expects). Every write is mirrored into the graph in its transaction: registered
//! models are model sources, versions model binaries (with the run that produced them), and the
//! Staging and Production stages and every alias deployments. Compiled only with `ssr`.

mod args;
mod reads;
mod search;
mod writes;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::error::AppError;
use crate::model::role::Role;
use crate::server::auth::Bearer;
use crate::server::db::RACE;
use crate::server::intake;
use crate::server::service::governance::{Gating, Override};
use crate::server::service::write::WriteError;
use crate::server::state::AppState;

use args::query_args;
use reads::{download_uri, get_by_alias, get_model, get_version, latest};
use search::{search_models, search_versions};
use writes::{
    create_model, create_version, delete_alias, delete_model, delete_version, rename_model,
    set_alias, set_model_tag, set_version_tag, transition, update_model, update_version,
};

pub use search::{Clause, parse_filter};

use crate::server::ingest::mlflow::{MirrorError, SOURCE};

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

    /// A registered model name that is taken, in MLflow's words.
    fn taken(name: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "RESOURCE_ALREADY_EXISTS",
            message: format!("Registered Model (name={name}) already exists."),
        }
    }

    /// A promotion gate refused the move (409, as MLflow answers a conflict with the state).
    fn gated(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            code: "RESOURCE_CONFLICT",
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

impl From<MirrorError> for MlflowError {
    fn from(error: MirrorError) -> Self {
        match error {
            MirrorError::Refused(why) => Self::invalid(why),
            MirrorError::Failed(error) => error.into(),
        }
    }
}

impl WriteError for MlflowError {
    fn is_race(&self) -> bool {
        self.message.ends_with(RACE)
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
    let caller = if write {
        let bearer = bearer(headers)?;
        Some(bearer.check(&state.pool, Role::Editor).await?)
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
    // A write goes through the write service (its transaction, retried when a concurrent write
    // got in the way, the history under the caller's name, a recompute after); a read runs on a
    // connection of its own.
    let Some(caller) = caller else {
        let mut conn = state.pool.acquire().await?;
        return call_in(&mut conn, method, call, &args, None).await;
    };
    // Stage transitions and aliases into a gated status pass the catalog's promotion gates; an
    // admin lets one past with a reason in this header (MLflow's calls have no field for it).
    let reason = headers
        .get(OVERRIDE_HEADER)
        .map(|v| {
            v.to_str().map_err(|_| {
                MlflowError::invalid(format!("the {OVERRIDE_HEADER} header is not text"))
            })
        })
        .transpose()?;
    let writer = Writer {
        actor: caller.actor(),
        gating: Gating {
            catalog: state.catalog.clone(),
            overridden: Override::asked(&caller, reason)?,
        },
    };
    state
        .write_service
        .run(&caller, Role::Editor, |conn| {
            let (method, call, args, writer) = (
                method.clone(),
                call.to_string(),
                args.clone(),
                writer.clone(),
            );
            Box::pin(async move { call_in(conn, &method, &call, &args, Some(&writer)).await })
        })
        .await
}

/// The header in which an admin gives the reason for letting a stage transition or an alias
/// past a promotion gate.
pub const OVERRIDE_HEADER: &str = "x-modelgov-override-reason";

/// Who writes through an MLflow call, and the gates their moves must pass.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    /// The writer's name in the history.
    actor: String,
    gating: Gating,
}

/// Runs one MLflow call on `conn`; `writer` is `None` for a read.
async fn call_in(
    conn: &mut PgConnection,
    method: &Method,
    call: &str,
    args: &Value,
    writer: Option<&Writer>,
) -> Answer {
    let actor = || actor_of(writer.map(|w| &w.actor));
    let gating = || writer.map(|w| &w.gating);
    match (method.as_str(), call) {
        ("POST", "registered-models/create") => create_model(conn, actor(), args).await,
        ("GET", "registered-models/get") => get_model(conn, args).await,
        ("PATCH", "registered-models/update") => update_model(conn, actor(), args).await,
        ("POST", "registered-models/rename") => rename_model(conn, actor(), args).await,
        ("DELETE", "registered-models/delete") => delete_model(conn, actor(), args).await,
        ("GET", "registered-models/search") => search_models(conn, args).await,
        ("POST" | "GET", "registered-models/get-latest-versions") => latest(conn, args).await,
        ("POST", "registered-models/set-tag") => set_model_tag(conn, actor(), args, true).await,
        ("DELETE", "registered-models/delete-tag") => {
            set_model_tag(conn, actor(), args, false).await
        }
        ("POST", "registered-models/alias") => set_alias(conn, actor(), gating(), args).await,
        ("GET", "registered-models/alias") => get_by_alias(conn, args).await,
        ("DELETE", "registered-models/alias") => delete_alias(conn, actor(), args).await,
        ("POST", "model-versions/create") => create_version(conn, actor(), args).await,
        ("GET", "model-versions/get") => get_version(conn, args).await,
        ("GET", "model-versions/get-download-uri") => download_uri(conn, args).await,
        ("PATCH", "model-versions/update") => update_version(conn, args).await,
        ("DELETE", "model-versions/delete") => delete_version(conn, actor(), args).await,
        ("GET", "model-versions/search") => search_versions(conn, args).await,
        ("POST", "model-versions/transition-stage") => {
            transition(conn, actor(), gating(), args).await
        }
        ("POST", "model-versions/set-tag") => set_version_tag(conn, args, true).await,
        ("DELETE", "model-versions/delete-tag") => set_version_tag(conn, args, false).await,
        _ => Err(MlflowError {
            status: StatusCode::NOT_FOUND,
            code: "ENDPOINT_NOT_FOUND",
            message: format!("modelgov does not serve {method} /api/2.0/mlflow/{call}"),
        }),
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
