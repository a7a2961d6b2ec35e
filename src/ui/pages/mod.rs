//! One component per route.

mod about;
mod admin;
mod asset;
mod campaigns;
mod governance;
mod ingestion;
mod metric;
mod model;
mod not_found;
mod numbers;
mod overview;
mod registry;
mod search;
mod signin;
mod unit;

pub use about::AboutPage;
pub use admin::AdminRoute;
pub use asset::AssetRoute;
pub use campaigns::{CampaignRoute, CampaignTable, CampaignsRoute};
pub use ingestion::IngestionRoute;
pub use metric::MetricRoute;
pub use model::ModelRoute;
pub use not_found::NotFoundPage;
pub use numbers::NumbersRoute;
pub use overview::OverviewPage;
pub use search::SearchRoute;
pub use signin::SignInRoute;
pub use unit::UnitRoute;
