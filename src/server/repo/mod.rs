//! The SQL of the graph, the registry operations, the MLflow API's tables, ingestion's tables
//! (mappings, quarantine, kept OpenLineage events), campaigns and exemptions, org units, sessions,
//! tokens and the dashboard's reads. Functions take the executor (or the transaction) as an
//! argument and know nothing of HTTP. Compiled only with `ssr`.
//!
//! SQL kept elsewhere, beside what owns it: `metrics/` (the evaluation, generated from the
//! catalog, the snapshots and the rollup reads); `db`, `health` and `demo` run one statement each
//! of their own (the connection check, the readiness probe, whether history was loaded).

pub mod campaigns;
pub mod exemptions;
pub mod graph;
pub mod ingestion;
pub mod mlflow;
pub mod org_units;
pub mod reads;
pub mod registry;
pub mod sessions;
pub mod tokens;
