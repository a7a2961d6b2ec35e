//! The use cases: one function for each thing a caller can ask, whichever surface it comes
//! through (REST, a server function, the MLflow API), so that their rules and limits are one.
//! Each takes typed parameters (parsed by `model::params` and the wire adapters) and only the
//! parts of the state it needs. Compiled only with `ssr`.
//!
//! - `governance`: exemptions (ask, approve, renew, revoke, list) and promotion gates.
//! - `pages`: the dashboard's pages, as data (unit, model, asset, metric pages; a unit's charts).
//! - `registry`: registry operations (register, deploy, promote, roll back, retire).
//! - `write`: the write service every write that is not a record batch goes through.

pub mod campaigns;
pub mod governance;
pub mod pages;
pub mod registry;
pub mod write;
