//! Server functions over metric results, for the dashboard: a unit's scorecard, its children
//! ranked, the models holding it back, a model's metrics with evidence, a metric's spread over the
//! org tree, and trends. Each reads one precomputed snapshot, `as_of` a past time when given.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::metrics::{ChildRollup, ModelMetrics, Scorecard, UnitRollupRow};
use crate::model::record::Ref;

/// The scorecard of the unit `unit` (the company when `None`).
#[server(prefix = "/api/fn", endpoint = "get_scorecard")]
pub async fn get_scorecard(
    unit: Option<Ref>,
    as_of: Option<String>,
) -> Result<Scorecard, AppError> {
    use crate::server::metrics::reads;
    use crate::server::{respond_error, rest::metrics::as_of as parse_as_of, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let snapshot = reads::snapshot(&state.pool, parse_as_of(as_of.as_deref())?).await?;
        let unit = reads::unit(&state.pool, unit.as_ref()).await?;
        reads::scorecard(&state.pool, &snapshot, unit).await
    }
    .await
    .map_err(respond_error)
}

/// The units directly below `unit`, ranked from the lowest score in `scope`.
#[server(prefix = "/api/fn", endpoint = "list_unit_children")]
pub async fn list_unit_children(
    unit: Option<Ref>,
    scope: String,
    as_of: Option<String>,
) -> Result<Vec<ChildRollup>, AppError> {
    use crate::server::metrics::reads;
    use crate::server::{respond_error, rest::metrics::as_of as parse_as_of, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let snapshot = reads::snapshot(&state.pool, parse_as_of(as_of.as_deref())?).await?;
        snapshot.catalog.check_scope(&scope)?;
        let unit = reads::unit(&state.pool, unit.as_ref()).await?;
        reads::children(&state.pool, &snapshot, unit.id, &scope).await
    }
    .await
    .map_err(respond_error)
}

/// The models below `unit` that hold it back most in `scope`.
#[server(prefix = "/api/fn", endpoint = "list_worst_models")]
pub async fn list_worst_models(
    unit: Option<Ref>,
    scope: String,
    as_of: Option<String>,
) -> Result<Vec<crate::model::metrics::ModelLevelRow>, AppError> {
    use crate::server::metrics::reads;
    use crate::server::{respond_error, rest::metrics::as_of as parse_as_of, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let snapshot = reads::snapshot(&state.pool, parse_as_of(as_of.as_deref())?).await?;
        snapshot.catalog.check_scope(&scope)?;
        let unit = reads::unit(&state.pool, unit.as_ref()).await?;
        reads::worst_models(&state.pool, &snapshot, unit.id, &scope, None, 20).await
    }
    .await
    .map_err(respond_error)
}

/// One model source's metrics with evidence and what would lift each.
#[server(prefix = "/api/fn", endpoint = "get_model_metrics")]
pub async fn get_model_metrics(
    model: Ref,
    as_of: Option<String>,
) -> Result<ModelMetrics, AppError> {
    use crate::server::metrics::reads;
    use crate::server::{respond_error, rest::metrics::as_of as parse_as_of, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let snapshot = reads::snapshot(&state.pool, parse_as_of(as_of.as_deref())?).await?;
        reads::model_metrics(&state.pool, &snapshot, &model).await
    }
    .await
    .map_err(respond_error)
}

/// How the models spread over the levels of `scope` at every unit of the org tree; empty before
/// the first recompute.
#[server(prefix = "/api/fn", endpoint = "list_scope_spread")]
pub async fn list_scope_spread(
    scope: String,
    as_of: Option<String>,
) -> Result<Vec<UnitRollupRow>, AppError> {
    use crate::server::metrics::reads;
    use crate::server::{respond_error, rest::metrics::as_of as parse_as_of, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let snapshot = match reads::snapshot(&state.pool, parse_as_of(as_of.as_deref())?).await {
            Err(AppError::NotFound(_)) => return Ok(Vec::new()),
            other => other?,
        };
        snapshot.catalog.check_scope(&scope)?;
        reads::spread(&state.pool, &snapshot, &scope).await
    }
    .await
    .map_err(respond_error)
}

/// A unit's counts and score in `scope` at every snapshot of the last `days` days.
#[server(prefix = "/api/fn", endpoint = "list_trend")]
pub async fn list_trend(
    unit: Option<Ref>,
    scope: String,
    days: i64,
) -> Result<Vec<crate::model::metrics::TrendPoint>, AppError> {
    use crate::server::metrics::reads;
    use crate::server::{respond_error, state::AppState};

    let state = expect_context::<AppState>();
    async {
        if !(1..=3650).contains(&days) {
            return Err(AppError::BadRequest(format!(
                "days must be 1-3650, not {days}"
            )));
        }
        state.catalog.check_scope(&scope)?;
        let unit = reads::unit(&state.pool, unit.as_ref()).await?;
        let until = chrono::Utc::now();
        reads::trend(
            &state.pool,
            unit.id,
            &scope,
            until - chrono::Duration::days(days),
            until,
        )
        .await
    }
    .await
    .map_err(respond_error)
}
