//! One server function per dashboard page: the page's data in one round trip. A unit page's
//! charts come apart (`get_unit_charts`), so that its data does not carry them twice.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::dashboard::{AssetPage, MetricPage, ModelPage, UnitCharts, UnitPage};
use crate::model::graph::SearchPage;
use crate::model::record::Ref;

/// The trend ranges a unit page offers, in days.
pub use crate::model::params::TREND_DAYS;

/// The company (`unit` `None`), org or team page in `scope` (default `overall`), its models
/// narrowed to `level` (`0`-`3` or `unknown`) and 50 from `offset`, as of a past time, with a
/// trend over `days`.
#[server(prefix = "/api/fn", endpoint = "get_unit_page")]
pub async fn get_unit_page(
    unit: Option<Ref>,
    scope: Option<String>,
    level: Option<String>,
    as_of: Option<String>,
    days: Option<i64>,
    offset: Option<i64>,
) -> Result<UnitPage, AppError> {
    unit_page(unit, scope, level, as_of, days, offset)
        .await
        .map_err(crate::error::respond_error)
}

/// The charts of the page `get_unit_page` answers with the same arguments. A page rendered on
/// the server carries its charts in its HTML; the browser asks for them only when it renders a
/// page itself, after following a link.
#[server(prefix = "/api/fn", endpoint = "get_unit_charts")]
pub async fn get_unit_charts(
    unit: Option<Ref>,
    scope: Option<String>,
    as_of: Option<String>,
    days: Option<i64>,
) -> Result<UnitCharts, AppError> {
    unit_page(unit, scope, None, as_of, days, None)
        .await
        .map(|page| crate::server::service::pages::unit_charts(&page))
        .map_err(crate::error::respond_error)
}

#[cfg(feature = "ssr")]
async fn unit_page(
    unit: Option<Ref>,
    scope: Option<String>,
    level: Option<String>,
    as_of: Option<String>,
    days: Option<i64>,
    offset: Option<i64>,
) -> Result<UnitPage, AppError> {
    use crate::model::dashboard::Bucket;
    use crate::server::{service::pages, state::AppState};

    let state = expect_context::<AppState>();
    let bucket = match level.as_deref().filter(|l| !l.is_empty()) {
        None => None,
        Some(value) => Some(Bucket::parse(value).ok_or_else(|| {
            AppError::BadRequest(format!(
                "level must be 0, 1, 2, 3 or unknown, not {value:?}"
            ))
        })?),
    };
    let days = crate::model::params::trend_days(days, None).map_err(AppError::BadRequest)?;
    let scope = scope
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "overall".into());
    let as_of = crate::model::params::as_of(as_of.as_deref().filter(|s| !s.is_empty()))
        .map_err(AppError::BadRequest)?;
    let offset = match offset {
        None => 0,
        Some(o) if (0..=crate::model::params::MAX_MODELS_OFFSET).contains(&o) => o,
        Some(o) => {
            return Err(AppError::BadRequest(format!(
                "offset must be a whole number from 0 to {}, not {o}",
                crate::model::params::MAX_MODELS_OFFSET
            )));
        }
    };
    pages::unit_page(
        &state.pool,
        unit.as_ref(),
        &scope,
        bucket,
        as_of,
        days,
        offset,
    )
    .await
}

/// The metric catalog in use, for "About the numbers".
#[server(prefix = "/api/fn", endpoint = "get_catalog")]
#[allow(clippy::unused_async)] // a server function is async; this one reads memory only
pub async fn get_catalog() -> Result<crate::model::metrics::Catalog, AppError> {
    use crate::server::state::AppState;
    Ok(expect_context::<AppState>().catalog.as_ref().clone())
}

/// A model source's page.
#[server(prefix = "/api/fn", endpoint = "get_model_page")]
pub async fn get_model_page(model: Ref, as_of: Option<String>) -> Result<ModelPage, AppError> {
    use crate::error::respond_error;
    use crate::server::{service::pages, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let as_of = crate::model::params::as_of(as_of.as_deref().filter(|s| !s.is_empty()))
            .map_err(AppError::BadRequest)?;
        pages::model_page(&state.pool, &model, as_of).await
    }
    .await
    .map_err(respond_error)
}

/// Any asset's page (runs, binaries, deployments, datasets, features).
#[server(prefix = "/api/fn", endpoint = "get_asset_page")]
pub async fn get_asset_page(asset: Ref) -> Result<AssetPage, AppError> {
    use crate::error::respond_error;
    use crate::server::{service::pages, state::AppState};

    let state = expect_context::<AppState>();
    pages::asset_page(&state.pool, &asset)
        .await
        .map_err(respond_error)
}

/// A metric's page.
#[server(prefix = "/api/fn", endpoint = "get_metric_page")]
pub async fn get_metric_page(
    metric: String,
    as_of: Option<String>,
) -> Result<MetricPage, AppError> {
    use crate::error::respond_error;
    use crate::server::{service::pages, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let as_of = crate::model::params::as_of(as_of.as_deref().filter(|s| !s.is_empty()))
            .map_err(AppError::BadRequest)?;
        pages::metric_page(&state.pool, &metric, as_of).await
    }
    .await
    .map_err(respond_error)
}

/// Assets whose name or description contains `text` and that carry the tag `tag` (`key:value`,
/// as in the REST API), of `kind`; 50 a page.
#[server(prefix = "/api/fn", endpoint = "search_assets")]
pub async fn search_assets(
    text: String,
    tag: Option<String>,
    kind: Option<String>,
    offset: Option<i64>,
) -> Result<SearchPage, AppError> {
    use crate::error::respond_error;
    use crate::model::params::SearchQuery;
    use crate::server::{repo::reads, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let tags: Vec<&str> = tag.as_deref().into_iter().collect();
        let query = SearchQuery::parse(&text, kind.as_deref(), &tags, offset, None)
            .map_err(AppError::BadRequest)?;
        reads::search(&state.pool, &query, 50).await
    }
    .await
    .map_err(respond_error)
}

/// The ingestion page: mappings (with what waits for one), the quarantine, the last OpenLineage
/// events.
#[server(prefix = "/api/fn", endpoint = "get_ingestion_page")]
pub async fn get_ingestion_page() -> Result<crate::model::ingestion::IngestionPage, AppError> {
    use crate::error::respond_error;
    use crate::server::{repo::ingestion, state::AppState};

    let state = expect_context::<AppState>();
    async {
        Ok(crate::model::ingestion::IngestionPage {
            mappings: ingestion::mappings(&state.pool).await?,
            quarantine: ingestion::quarantine(&state.pool, None, 100).await?,
            rejections: ingestion::rejections(&state.pool, 100).await?,
            events: ingestion::events(&state.pool, 50).await?,
            sources: ingestion::sources(&state.pool).await?,
        })
    }
    .await
    .map_err(respond_error)
}
