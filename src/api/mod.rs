//! Server functions: one file per resource, thin. Each authorizes, validates and calls `server::*`.

pub mod campaigns;
pub mod dashboard;
pub mod governance;
pub mod metrics;
pub mod org_units;
pub mod registry;
pub mod session;
