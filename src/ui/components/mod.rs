//! Presentational pieces shared by pages.

mod error_panel;
mod level_bar;

pub use error_panel::ErrorPanel;
pub use level_bar::LevelBar;
