//! The ingestion view's rows: the label mapping table, the quarantine, the last OpenLineage
//! events.

use serde::{Deserialize, Serialize};

/// A mapping, or a label waiting in quarantine without one (`kind` empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRow {
    pub source: String,
    pub label: String,
    pub kind: String,
    pub quarantined: i64,
}

/// A record waiting for a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRow {
    pub source: String,
    pub external_id: String,
    pub label: String,
    pub actor: String,
    pub received_at: String,
}

/// An OpenLineage event as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub received_at: String,
    pub run_id: String,
    pub event_type: String,
    pub event_time: String,
    pub job: String,
    pub actor: String,
}

/// A record the graph refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionRow {
    pub source: String,
    pub external_id: String,
    pub reason: String,
    pub actor: String,
    pub at: String,
}

/// The ingestion page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestionPage {
    pub mappings: Vec<MappingRow>,
    pub quarantine: Vec<QuarantineRow>,
    pub rejections: Vec<RejectionRow>,
    pub events: Vec<EventRow>,
}
