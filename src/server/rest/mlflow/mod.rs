//! The MLflow model registry REST API under `/api/2.0/mlflow/`: the calls MLflow's own Python
//! client makes for registered models, versions, stages, tags and aliases, with MLflow's error
//! shape (`error_code`, `message`) and statuses (docs/interop-wire-notes.md has what the client
//! sends and expects). Every write is mirrored into the graph in its transaction: registered
//! models are model sources, versions model binaries (with the run that produced them), and the
//! Staging and Production stages and every alias deployments. Compiled only with `ssr`.
//!
//! A call is read once into a typed request (`requests`, with `filter` for searches and `limits`
//! for every argument), then answered by its resource's module (`models`, `versions`) in the
//! shapes of `answers`; their SQL is `repo::mlflow`'s, what a write means in
//! the graph `ingest::mlflow`'s, and a write runs through the write service like every other.

mod answers;
mod filter;
mod limits;
mod models;
mod requests;
mod versions;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::error::AppError;
use crate::model::record::Ref;
use crate::model::registry::Stage;
use crate::model::role::Role;
use crate::server::auth::Bearer;
use crate::server::db::RACE;
use crate::server::intake;
use crate::server::repo::exemptions::model_source_id;
use crate::server::repo::registry::{by_id, record};
use crate::server::service::governance::{Gating, Override};
use crate::server::service::write::WriteError;
use crate::server::state::AppState;

use requests::{Call, query_args};

pub use filter::{Clause, parse_filter};

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
    let changes = Call::writes(method, call);
    let caller = if changes {
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
        let read = if changes {
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
    let call = Call::parse(method, call, &args)?;
    // A write goes through the write service (its transaction, retried when a concurrent write
    // got in the way, the history under the caller's name, a recompute after); a read runs on a
    // connection of its own.
    let Some(caller) = caller else {
        let mut conn = state.pool.acquire().await?;
        return read(&mut conn, &call).await;
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
            let (call, writer) = (call.clone(), writer.clone());
            Box::pin(async move { write(conn, &call, &writer).await })
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

/// Answers a call that reads (a write sent without a token never gets here: it was refused).
async fn read(conn: &mut PgConnection, call: &Call) -> Answer {
    match call {
        Call::GetModel(asked) => models::get_model(conn, asked).await,
        Call::SearchModels(found) => models::search_models(conn, found).await,
        Call::LatestVersions(asked) => models::latest(conn, asked).await,
        Call::GetAlias(asked) => models::get_by_alias(conn, asked).await,
        Call::GetVersion(key) => versions::get_version(conn, key).await,
        Call::DownloadUri(key) => versions::download_uri(conn, key).await,
        Call::SearchVersions(found) => versions::search_versions(conn, found).await,
        _ => Err(AppError::Internal.into()),
    }
}

/// Runs a call that writes, in the write service's transaction; reads sent with a token answer
/// as reads.
async fn write(conn: &mut PgConnection, call: &Call, writer: &Writer) -> Answer {
    let actor = writer.actor.as_str();
    match call {
        Call::CreateModel(new) => models::create_model(conn, actor, new).await,
        Call::UpdateModel(update) => models::update_model(conn, actor, update).await,
        Call::RenameModel(rename) => models::rename_model(conn, actor, rename).await,
        Call::DeleteModel(asked) => models::delete_model(conn, actor, asked).await,
        Call::SetModelTag(tag) | Call::DeleteModelTag(tag) => {
            models::model_tag(conn, actor, tag).await
        }
        Call::SetAlias(point) => models::set_alias(conn, writer, point).await,
        Call::DeleteAlias(asked) => models::delete_alias(conn, actor, asked).await,
        Call::CreateVersion(new) => versions::create_version(conn, actor, new).await,
        Call::UpdateVersion(update) => versions::update_version(conn, update).await,
        Call::DeleteVersion(key) => versions::delete_version(conn, actor, key).await,
        Call::Transition(t) => versions::transition(conn, writer, t).await,
        Call::SetVersionTag(tag) | Call::DeleteVersionTag(tag) => {
            versions::version_tag(conn, tag).await
        }
        _ => read(conn, call).await,
    }
}

/// Holds a move of registered model `name` into `status` to the catalog's promotion gate (the
/// model source it mirrors to is judged); an admin's override is recorded in its history.
async fn pass_gate(
    conn: &mut PgConnection,
    writer: &Writer,
    name: &str,
    status: Stage,
    what: &str,
) -> Result<(), MlflowError> {
    let gating = &writer.gating;
    if !gating.catalog.gates.iter().any(|g| g.status == status) {
        return Ok(());
    }
    let key = Ref {
        source: SOURCE.into(),
        id: name.to_string(),
    };
    let model = match model_source_id(conn, &key).await {
        Ok(id) => id,
        // Not mirrored (yet): nothing to judge it by.
        Err(AppError::NotFound(_)) => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    let gate = gating
        .enforce(conn, model, status, what)
        .await
        .map_err(|error| match error {
            AppError::Conflict(why) => MlflowError::gated(why),
            other => other.into(),
        })?;
    if let Some(reason) = gate
        .as_ref()
        .and_then(|g| g.get("overridden"))
        .and_then(Value::as_str)
    {
        let model = by_id(conn, model).await?;
        record(
            conn,
            "gate_overridden",
            Some(&model),
            &model,
            Value::Null,
            json!({ "summary": format!("{status} gate overridden for {what}: {reason}"), "gate": gate }),
        )
        .await?;
    }
    Ok(())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
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
