//! Server functions over org units.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::OrgUnitSummary;

/// Every org unit in tree order, with the model sources each owns through its subtree.
#[server(prefix = "/api/fn", endpoint = "list_org_units")]
pub async fn list_org_units() -> Result<Vec<OrgUnitSummary>, AppError> {
    use crate::error::respond_error;
    use crate::server::{repo, state::AppState};

    let state = expect_context::<AppState>();
    repo::org_units::list(&state.pool)
        .await
        .map_err(respond_error)
}
