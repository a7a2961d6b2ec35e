//! Server functions over metric results, for the dashboard: how the models spread over a scope's
//! levels across the org tree. (Pages read their whole page in one call, `api::dashboard`; the
//! same numbers are in the HTTP API for scripts.) Each reads one precomputed snapshot, `as_of` a
//! past time when given.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::metrics::UnitRollupRow;

/// How the models spread over the levels of `scope` at every unit of the org tree; empty before
/// the first recompute.
#[server(prefix = "/api/fn", endpoint = "list_scope_spread")]
pub async fn list_scope_spread(
    scope: String,
    as_of: Option<String>,
) -> Result<Vec<UnitRollupRow>, AppError> {
    use crate::error::respond_error;
    use crate::server::metrics::reads;
    use crate::server::state::AppState;

    let state = expect_context::<AppState>();
    async {
        let snapshot = match reads::snapshot(
            &state.pool,
            crate::model::params::as_of(as_of.as_deref()).map_err(AppError::BadRequest)?,
        )
        .await
        {
            Err(AppError::NotFound(_)) => return Ok(Vec::new()),
            other => other?,
        };
        snapshot.catalog.check_scope(&scope)?;
        reads::spread(&state.pool, &snapshot, &scope).await
    }
    .await
    .map_err(respond_error)
}
