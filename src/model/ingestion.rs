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

/// A refusal's reason as a person reads it: the JSON parser's messages ("unknown variant `thing`,
/// expected one of `a`, `b` at line 1 column 57") said in words, without their positions;
/// anything else as it is.
pub fn plain_reason(reason: &str) -> String {
    reason
        .split("; ")
        .map(plain_part)
        .collect::<Vec<_>>()
        .join("; ")
}

fn plain_part(part: &str) -> String {
    let part = match part.rfind(" at line ") {
        Some(at) if part[at..].contains(" column ") => &part[..at],
        _ => part,
    };
    // `a`, `b` → a, b
    let names = |list: &str| list.replace('`', "");
    let quoted = |text: &str| text.trim_matches('`').to_string();
    if let Some(rest) = part.strip_prefix("unknown variant ") {
        return match rest.split_once(", expected ") {
            Some((value, expected)) => format!(
                "“{}” is not a value this field takes; it takes {}",
                quoted(value),
                names(expected.trim_start_matches("one of "))
            ),
            None => format!("“{}” is not a value this field takes", quoted(rest)),
        };
    }
    if let Some(rest) = part.strip_prefix("unknown field ") {
        return match rest.split_once(", expected ") {
            Some((field, expected)) => format!(
                "“{}” is not a field of this record; its fields are {}",
                quoted(field),
                names(expected.trim_start_matches("one of "))
            ),
            None => format!("“{}” is not a field of this record", quoted(rest)),
        };
    }
    if let Some(field) = part.strip_prefix("missing field ") {
        return format!("the field “{}” is missing", quoted(field));
    }
    if let Some(rest) = part.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!("a value is {} where {expected} was expected", names(found));
    }
    part.to_string()
}

#[cfg(test)]
mod plain_reasons {
    use super::plain_reason;

    #[test]
    fn parser_messages_read_as_words_without_positions() {
        assert_eq!(
            plain_reason(
                "unknown variant `thing`, expected one of `asset`, `edge` at line 1 column 17"
            ),
            "“thing” is not a value this field takes; it takes asset, edge"
        );
        assert_eq!(
            plain_reason("missing field `kind` at line 1 column 40"),
            "the field “kind” is missing"
        );
        assert_eq!(
            plain_reason("unknown field `colour`, expected `name` or `kind`"),
            "“colour” is not a field of this record; its fields are name or kind"
        );
        assert_eq!(
            plain_reason("invalid type: integer `5`, expected a string at line 2 column 3"),
            "a value is integer 5 where a string was expected"
        );
        assert_eq!(
            plain_reason("no mapping for label Endpoint"),
            "no mapping for label Endpoint"
        );
    }
}
