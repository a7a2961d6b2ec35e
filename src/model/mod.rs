//! Wire types shared by the server and the browser, and the pure logic over them.

pub mod org_unit;

pub use org_unit::{OrgUnitId, OrgUnitSummary, filter_units};
