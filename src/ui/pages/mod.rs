//! One component per route.

mod about;
mod ingestion;
mod metric;
mod model;
mod not_found;
mod overview;
mod search;
mod unit;

pub use about::AboutPage;
pub use ingestion::IngestionRoute;
pub use metric::MetricRoute;
pub use model::ModelRoute;
pub use not_found::NotFoundPage;
pub use overview::OverviewPage;
pub use search::SearchRoute;
pub use unit::UnitRoute;
