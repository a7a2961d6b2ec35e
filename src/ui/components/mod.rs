//! Presentational pieces shared by pages.

mod asset_link;
mod breadcrumbs;
mod chart;
mod csv;
mod error_panel;
mod forms;
mod history;
mod level_badge;
mod level_bar;
mod lineage_graph;
mod session;
mod text_table;

pub use asset_link::{AssetLink, Sentences};
pub use breadcrumbs::Breadcrumbs;
pub use chart::Chart;
pub use csv::CsvLink;
pub use error_panel::ErrorPanel;
pub use forms::{MappingForm, outcome};
pub use history::{HistoryTable, ServingTable, tag_words};
pub use level_badge::LevelBadge;
pub use level_bar::LevelBar;
pub use lineage_graph::{LineageChoice, LineageGraph, chosen_lineage};
pub use session::{
    Me, SessionNav, current_address, local_address, next_address, reload_at, signed_in,
};
pub use text_table::TextTable;
