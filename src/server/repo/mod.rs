//! The SQL of the graph, the registry operations, org units, sessions, tokens and the dashboard's
//! reads. Functions take the executor (or the transaction) as an argument and know nothing of
//! HTTP. Compiled only with `ssr`.
//!
//! SQL still kept elsewhere, beside what owns it: `metrics/` (the evaluation, generated from the
//! catalog, and the rollup reads), `ingest/` (applying records and OpenLineage events, mappings,
//! what MLflow writes mean in the graph) and `rest/mlflow/` (the MLflow API's own tables); the
//! last is the next to move here.

pub mod campaigns;
pub mod exemptions;
pub mod graph;
pub mod ingestion;
pub mod org_units;
pub mod reads;
pub mod registry;
pub mod sessions;
pub mod tokens;
