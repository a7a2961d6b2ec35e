//! Wire types shared by the server and the browser, and the pure logic over them.

pub mod admin;
pub mod campaign;
pub mod csv;
pub mod dashboard;
pub mod evidence;
pub mod governance;
pub mod graph;
pub mod ingestion;
pub mod metrics;
pub mod org_unit;
pub mod params;
pub mod record;
pub mod registry;
pub mod role;
pub mod routes;
pub mod text;

pub use org_unit::{OrgUnitSummary, filter_units};
