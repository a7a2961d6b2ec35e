//! Exemptions and promotion gates from the dashboard: a model page's exemptions and gate checks,
//! asking for an exemption (editors; an admin's request is granted at once) and deciding one
//! (admins). Each checks the signed-in session's role and CSRF secret on the server, then calls
//! the same use case as the HTTP API.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::model::governance::{Exemption, ModelGovernance, NewExemption};
use crate::model::record::Ref;

/// A model source's exemptions (newest first) and whether it would pass each gate now.
#[server(prefix = "/api/fn", endpoint = "get_model_governance", input = Json)]
pub async fn get_model_governance(model: Ref) -> Result<ModelGovernance, AppError> {
    use crate::error::respond_error;
    use crate::server::{service::governance, state::AppState};

    let state = expect_context::<AppState>();
    async {
        Ok(ModelGovernance {
            gates: governance::gates_of(&state.pool, &state.catalog, &model).await?,
            exemptions: governance::list(&state.pool, Some(&model), None).await?,
        })
    }
    .await
    .map_err(respond_error)
}

/// Asks for an exemption as the signed-in editor (granted at once for an admin).
#[server(prefix = "/api/fn", endpoint = "request_exemption", input = Json)]
pub async fn request_exemption(
    csrf: String,
    exemption: NewExemption,
) -> Result<Exemption, AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{auth::Caller, service::governance, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let session = session::authorize(Role::Editor, &csrf)?;
        governance::request(
            &state.write_service,
            &state.catalog,
            &Caller(session.caller),
            &exemption,
        )
        .await
    }
    .await
    .map_err(respond_error)
}

/// Approves, renews (with `expires_at`) or revokes an exemption as the signed-in admin.
#[server(prefix = "/api/fn", endpoint = "decide_exemption", input = Json)]
pub async fn decide_exemption(
    csrf: String,
    id: i64,
    decision: String,
    expires_at: Option<String>,
) -> Result<Exemption, AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::service::governance::{self, Decision};
    use crate::server::{auth::Caller, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let session = session::authorize(Role::Admin, &csrf)?;
        let decision = match (decision.as_str(), expires_at.as_deref()) {
            ("approve", None) => Decision::Approve,
            ("revoke", None) => Decision::Revoke,
            ("renew", Some(until)) => {
                Decision::Renew(governance::expiry(until, chrono::Utc::now())?)
            }
            ("renew", None) => {
                return Err(AppError::BadRequest(
                    "renewing needs expires_at, the new expiry".into(),
                ));
            }
            ("approve" | "revoke", Some(_)) => {
                return Err(AppError::BadRequest(
                    "expires_at goes with renew only".into(),
                ));
            }
            (other, _) => {
                let shown: String = other.chars().take(40).collect();
                return Err(AppError::BadRequest(format!(
                    "decision {shown:?} is not one of approve, renew, revoke"
                )));
            }
        };
        governance::decide(&state.write_service, &Caller(session.caller), id, decision).await
    }
    .await
    .map_err(respond_error)
}
