//! All SQL lives here. Functions take the executor as an argument. Compiled only with `ssr`.

pub mod graph;
pub mod ingestion;
pub mod org_units;
pub mod reads;
pub mod registry;
pub mod sessions;
pub mod tokens;
