//! The native ingestion wire contract (DESIGN.md section 8): records, references, kinds, statuses,
//! the edge rules between kinds, and the outcome reported per record.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::text::{Lines, check_text};

/// Longest name, source or external id accepted, in characters.
pub const MAX_KEY_CHARS: usize = 512;
/// Most bytes of a key part in UTF-8: both parts fit one Postgres index row (2,704 bytes).
pub const MAX_KEY_BYTES: usize = 1_000;
/// Most characters of a value (a tag's, a status).
pub const MAX_VALUE_CHARS: usize = 5_000;
/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 10_000;
/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 100_000;

/// A reference to any record: its identity is the pair.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Ref {
    pub source: String,
    pub id: String,
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.source, self.id)
    }
}

/// The seven canonical kinds of asset.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    FeatureSource,
    LogicalFeature,
    Dataset,
    ModelSource,
    WorkflowRun,
    ModelBinary,
    Deployment,
}

impl AssetKind {
    pub const ALL: [AssetKind; 7] = [
        Self::FeatureSource,
        Self::LogicalFeature,
        Self::Dataset,
        Self::ModelSource,
        Self::WorkflowRun,
        Self::ModelBinary,
        Self::Deployment,
    ];

    /// The kind as it is written on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FeatureSource => "feature_source",
            Self::LogicalFeature => "logical_feature",
            Self::Dataset => "dataset",
            Self::ModelSource => "model_source",
            Self::WorkflowRun => "workflow_run",
            Self::ModelBinary => "model_binary",
            Self::Deployment => "deployment",
        }
    }

    /// The kind in words, for messages and pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::FeatureSource => "feature source",
            Self::LogicalFeature => "logical feature",
            Self::Dataset => "dataset",
            Self::ModelSource => "model source",
            Self::WorkflowRun => "workflow run",
            Self::ModelBinary => "model binary",
            Self::Deployment => "deployment",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

impl fmt::Display for AssetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many edges of one meaning a node may have at its `to` end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// Any number on both ends (n to m).
    Many,
    /// The `to` end has exactly one such edge; a second one is refused.
    OneSource,
    /// The `to` end has one such edge at a time; a new one replaces the old (history keeps it).
    Replaces,
}

/// The connection between two kinds, with its meaning and cardinality (DESIGN.md section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeRule {
    pub from: AssetKind,
    pub to: AssetKind,
    pub meaning: &'static str,
    pub cardinality: Cardinality,
}

pub const EDGE_RULES: [EdgeRule; 6] = [
    EdgeRule {
        from: AssetKind::FeatureSource,
        to: AssetKind::LogicalFeature,
        meaning: "feeds",
        cardinality: Cardinality::OneSource,
    },
    EdgeRule {
        from: AssetKind::LogicalFeature,
        to: AssetKind::Dataset,
        meaning: "is materialized in",
        cardinality: Cardinality::Many,
    },
    EdgeRule {
        from: AssetKind::Dataset,
        to: AssetKind::WorkflowRun,
        meaning: "trains",
        cardinality: Cardinality::Many,
    },
    EdgeRule {
        from: AssetKind::ModelSource,
        to: AssetKind::WorkflowRun,
        meaning: "is executed by",
        cardinality: Cardinality::OneSource,
    },
    EdgeRule {
        from: AssetKind::WorkflowRun,
        to: AssetKind::ModelBinary,
        meaning: "produced",
        cardinality: Cardinality::OneSource,
    },
    EdgeRule {
        from: AssetKind::ModelBinary,
        to: AssetKind::Deployment,
        meaning: "serves",
        cardinality: Cardinality::Replaces,
    },
];

/// The rule for an edge between these kinds, or a message naming why there is none.
pub fn edge_rule(from: AssetKind, to: AssetKind) -> Result<EdgeRule, String> {
    EDGE_RULES
        .into_iter()
        .find(|rule| rule.from == from && rule.to == to)
        .ok_or_else(|| {
            let allowed: Vec<String> = EDGE_RULES
                .iter()
                .filter(|rule| rule.from == from)
                .map(|rule| rule.to.label().to_string())
                .collect();
            if allowed.is_empty() {
                format!(
                    "kind rule: no edge may start at a {} (edges start at feature sources, logical features, datasets, model sources, workflow runs and model binaries)",
                    from.label()
                )
            } else {
                format!(
                    "kind rule: an edge from a {} may lead only to a {}, not to a {}",
                    from.label(),
                    allowed.join(" or a "),
                    to.label()
                )
            }
        })
}

/// The statuses a kind of asset may carry, for validation and messages.
pub fn statuses_of(kind: AssetKind) -> &'static [&'static str] {
    match kind {
        AssetKind::Deployment => &["development", "staging", "production", "retired"],
        AssetKind::WorkflowRun => &["running", "succeeded", "failed", "aborted"],
        _ => &[],
    }
}

/// One record of a write, as the wire contract defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    OrgUnit(OrgUnitRecord),
    Asset(AssetRecord),
    Edge(EdgeRecord),
    Measurement(MeasurementRecord),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgUnitRecord {
    pub source: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub parent: Option<Ref>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `Default` is for records built on the server: name the fields that matter, `..Default::default()`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetRecord {
    pub source: String,
    pub id: String,
    /// The canonical kind; a record may instead carry a tool `label`.
    #[serde(default)]
    pub kind: Option<AssetKind>,
    /// The tool's own label, resolved through the mapping table when `kind` is absent.
    #[serde(default)]
    pub label: Option<String>,
    pub name: String,
    #[serde(default)]
    pub owner: Option<Ref>,
    #[serde(default)]
    pub owners: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub ended_at: Option<String>,
}

impl AssetRecord {
    pub fn key(&self) -> Ref {
        Ref {
            source: self.source.clone(),
            id: self.id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeRecord {
    pub from: Ref,
    pub to: Ref,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurementRecord {
    pub asset: Ref,
    pub name: String,
    pub value: f64,
    pub at: String,
}

/// What happened to one record of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Quarantined,
    Rejected,
}

/// The answer for one record: its place in the request, what happened, and why if rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordResult {
    /// 1-based line for NDJSON, 0-based index for a JSON array, 0 for a single object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    pub status: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Checks the text of a key part (source or external id): present, one line, at most
/// [`MAX_KEY_CHARS`] characters and [`MAX_KEY_BYTES`] bytes (the pair must fit a Postgres index row).
pub fn check_key_part(what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    check_text(what, value, MAX_KEY_CHARS, Lines::One)?;
    if value.len() > MAX_KEY_BYTES {
        return Err(format!(
            "{what} is longer than {MAX_KEY_BYTES} bytes in UTF-8"
        ));
    }
    Ok(())
}

/// Checks a name: present, one line, at most [`MAX_NAME_CHARS`] characters.
pub fn check_name(value: &str) -> Result<(), String> {
    check_named_text("name", value)
}

/// Checks a name-like field (`what` names it): present, one line, at most [`MAX_NAME_CHARS`].
pub fn check_named_text(what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    check_text(what, value, MAX_NAME_CHARS, Lines::One)
}

/// Checks a description: at most [`MAX_DESCRIPTION_CHARS`]; tabs and line breaks allowed.
pub fn check_description(value: &str) -> Result<(), String> {
    check_text("description", value, MAX_DESCRIPTION_CHARS, Lines::Many)
}

/// Checks a one-line value such as a status (`what` names it): at most [`MAX_VALUE_CHARS`].
pub fn check_value(what: &str, value: &str) -> Result<(), String> {
    check_text(what, value, MAX_VALUE_CHARS, Lines::One)
}

/// Checks a tag's value (`what` names it): at most [`MAX_VALUE_CHARS`]; tools put notes with
/// line breaks in tags, so tabs and line breaks are allowed.
pub fn check_tag_value(what: &str, value: &str) -> Result<(), String> {
    check_text(what, value, MAX_VALUE_CHARS, Lines::Many)
}

pub fn check_ref(what: &str, r: &Ref) -> Result<(), String> {
    check_key_part(&format!("{what}.source"), &r.source)?;
    check_key_part(&format!("{what}.id"), &r.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_its_name() {
        for kind in AssetKind::ALL {
            assert_eq!(AssetKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AssetKind::parse("model"), None);
    }

    #[test]
    fn edge_rules_follow_the_design() {
        use AssetKind::*;
        assert_eq!(
            edge_rule(FeatureSource, LogicalFeature)
                .unwrap()
                .cardinality,
            Cardinality::OneSource
        );
        assert_eq!(
            edge_rule(LogicalFeature, Dataset).unwrap().cardinality,
            Cardinality::Many
        );
        assert_eq!(
            edge_rule(Dataset, WorkflowRun).unwrap().cardinality,
            Cardinality::Many
        );
        assert_eq!(
            edge_rule(ModelSource, WorkflowRun).unwrap().cardinality,
            Cardinality::OneSource
        );
        assert_eq!(
            edge_rule(WorkflowRun, ModelBinary).unwrap().cardinality,
            Cardinality::OneSource
        );
        assert_eq!(
            edge_rule(ModelBinary, Deployment).unwrap().cardinality,
            Cardinality::Replaces
        );
        let refused = edge_rule(Dataset, ModelBinary).unwrap_err();
        assert!(
            refused.contains("may lead only to a workflow run"),
            "{refused}"
        );
        let refused = edge_rule(Deployment, Dataset).unwrap_err();
        assert!(
            refused.contains("no edge may start at a deployment"),
            "{refused}"
        );
        let mut allowed = 0;
        for from in AssetKind::ALL {
            for to in AssetKind::ALL {
                allowed += usize::from(edge_rule(from, to).is_ok());
            }
        }
        assert_eq!(allowed, EDGE_RULES.len());
    }

    #[test]
    fn records_parse_as_the_contract_writes_them() {
        let record: Record = serde_json::from_str(
            r#"{"type":"asset","source":"deploy","id":"feed-prod-eu","kind":"deployment","status":"production","name":"Feed EU"}"#,
        )
        .unwrap();
        let Record::Asset(asset) = record else {
            panic!("not an asset")
        };
        assert_eq!(asset.kind, Some(AssetKind::Deployment));
        assert_eq!(asset.status.as_deref(), Some("production"));

        let record: Record = serde_json::from_str(
            r#"{"type":"edge","from":{"source":"git","id":"a"},"to":{"source":"airflow","id":"r"}}"#,
        )
        .unwrap();
        assert!(matches!(record, Record::Edge(_)));
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_refused() {
        let err =
            serde_json::from_str::<Record>(r#"{"type":"asset","source":"a","id":"b","name":7}"#)
                .unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        let err = serde_json::from_str::<Record>(
            r#"{"type":"asset","source":"a","id":"b","name":"n","colour":"red"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
        let err = serde_json::from_str::<Record>(r#"{"type":"thing"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `thing`"), "{err}");
    }

    #[test]
    fn key_and_name_checks() {
        assert!(check_key_part("id", " ").is_err());
        assert!(check_key_part("id", "a\nb").is_err());
        assert!(check_key_part("id", &"x".repeat(513)).is_err());
        assert!(check_key_part("id", "feed-ranker/7").is_ok());
        assert!(check_name(&"x".repeat(10_000)).is_ok());
        assert!(check_name(&"x".repeat(10_001)).is_err());
        assert!(check_name("a\0b").is_err());
        assert!(check_name("<script>'; DROP TABLE assets; --").is_ok());
    }
}
