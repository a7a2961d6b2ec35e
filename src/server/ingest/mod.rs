//! Ingestion: reading writes in the native wire format (and OpenLineage's) and applying them to
//! the graph. Compiled
//! only with `ssr`.

pub mod apply;
pub mod mlflow;
pub mod openlineage;
pub mod parse;
pub mod queue;
pub mod remap;
