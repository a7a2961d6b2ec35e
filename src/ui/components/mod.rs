//! Presentational pieces shared by pages.

mod breadcrumbs;
mod chart;
mod csv;
mod error_panel;
mod level_badge;
mod level_bar;
mod session;

pub use breadcrumbs::Breadcrumbs;
pub use chart::Chart;
pub use csv::CsvLink;
pub use error_panel::ErrorPanel;
pub use level_badge::LevelBadge;
pub use level_bar::LevelBar;
pub use session::{
    Me, SessionNav, current_address, local_address, next_address, reload_at, signed_in,
};
