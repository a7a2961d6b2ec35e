//! Presentational pieces shared by pages.

mod breadcrumbs;
mod chart;
mod csv;
mod error_panel;
mod level_badge;
mod level_bar;

pub use breadcrumbs::Breadcrumbs;
pub use chart::Chart;
pub use csv::CsvLink;
pub use error_panel::ErrorPanel;
pub use level_badge::LevelBadge;
pub use level_bar::LevelBar;
