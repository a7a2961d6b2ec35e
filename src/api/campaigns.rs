//! Campaigns from the dashboard: the list, one campaign's page, a unit's campaigns, and creating
//! and closing (editors, with the session's CSRF secret). Each calls the same use case as the
//! HTTP API.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::model::campaign::{Campaign, CampaignPage, NewCampaign};
use crate::model::record::Ref;

/// Every campaign, open ones first, by deadline.
#[server(prefix = "/api/fn", endpoint = "get_campaigns")]
pub async fn get_campaigns() -> Result<Vec<Campaign>, AppError> {
    use crate::error::respond_error;
    use crate::server::{service::campaigns, state::AppState};

    let state = expect_context::<AppState>();
    campaigns::list(&state.pool).await.map_err(respond_error)
}

/// One campaign's page, as of `as_of` (an RFC 3339 time) or now.
#[server(prefix = "/api/fn", endpoint = "get_campaign_page")]
pub async fn get_campaign_page(id: i64, as_of: Option<String>) -> Result<CampaignPage, AppError> {
    use crate::error::respond_error;
    use crate::server::{service::campaigns, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let as_of = crate::model::params::as_of(as_of.as_deref()).map_err(AppError::BadRequest)?;
        campaigns::page(&state.pool, id, as_of).await
    }
    .await
    .map_err(respond_error)
}

/// The campaigns that touch a unit (the company when `unit` is `None`).
#[server(prefix = "/api/fn", endpoint = "get_unit_campaigns", input = Json)]
pub async fn get_unit_campaigns(unit: Option<Ref>) -> Result<Vec<Campaign>, AppError> {
    use crate::error::respond_error;
    use crate::server::{metrics::reads, service::campaigns, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let unit = reads::unit(&state.pool, unit.as_ref()).await?;
        campaigns::touching(&state.pool, unit.id).await
    }
    .await
    .map_err(respond_error)
}

/// Creates a campaign as the signed-in editor.
#[server(prefix = "/api/fn", endpoint = "create_campaign", input = Json)]
pub async fn create_campaign(csrf: String, campaign: NewCampaign) -> Result<Campaign, AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{auth::Caller, service::campaigns, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let session = session::authorize(Role::Editor, &csrf)?;
        campaigns::create(
            &state.write_service,
            &state.catalog,
            &Caller(session.caller),
            &campaign,
        )
        .await
    }
    .await
    .map_err(respond_error)
}

/// Closes a campaign as the signed-in editor; it keeps its figures as they are now.
#[server(prefix = "/api/fn", endpoint = "close_campaign", input = Json)]
pub async fn close_campaign(csrf: String, id: i64) -> Result<Campaign, AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{auth::Caller, service::campaigns, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let session = session::authorize(Role::Editor, &csrf)?;
        campaigns::close(&state.write_service, &Caller(session.caller), id).await
    }
    .await
    .map_err(respond_error)
}
