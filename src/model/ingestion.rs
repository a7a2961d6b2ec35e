//! The ingestion view's rows: the label mapping table, the quarantine, the last OpenLineage
//! events.

use serde::{Deserialize, Serialize};

/// A mapping, or a label waiting in quarantine without one (`kind` empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MappingRow {
    pub source: String,
    pub label: String,
    pub kind: String,
    pub quarantined: i64,
}

/// A record waiting for a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuarantineRow {
    pub source: String,
    pub external_id: String,
    pub label: String,
    pub actor: String,
    pub received_at: String,
}

/// An OpenLineage event as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventRow {
    pub received_at: String,
    pub run_id: String,
    pub event_type: String,
    pub event_time: String,
    pub job: String,
    pub actor: String,
}

/// A record the graph refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectionRow {
    pub source: String,
    pub external_id: String,
    pub reason: String,
    pub actor: String,
    pub at: String,
}

/// The ingestion page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IngestionPage {
    pub mappings: Vec<MappingRow>,
    pub quarantine: Vec<QuarantineRow>,
    pub rejections: Vec<RejectionRow>,
    pub events: Vec<EventRow>,
    /// What each source system wrote last, among the newest changes to the graph.
    pub sources: Vec<SourceActivity>,
}

/// How many of the newest changes the ingestion page reads for each source's last writes: one
/// bounded index scan, however large the history grows.
pub const RECENT_CHANGES: i64 = 2_000;

/// A source system's latest writes to the graph (through any surface: records, OpenLineage,
/// MLflow, registry operations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceActivity {
    pub source: String,
    /// RFC 3339.
    pub last_at: String,
    /// The token that wrote it last.
    pub actor: String,
    /// The last change, for people: "asset updated: feed-ranker v7".
    pub last_change: String,
    /// Its changes among the newest ones read.
    pub changes: i64,
}
