//! Presentational pieces shared by pages.

mod error_panel;

pub use error_panel::ErrorPanel;
