//! What the graph's read endpoints answer: assets, lineage walks, history, search, serving.

use serde::{Deserialize, Serialize};

use super::record::{AssetKind, Ref};

/// An asset as lists and walks show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssetSummary {
    #[serde(rename = "ref")]
    pub key: Ref,
    pub kind: AssetKind,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Which way a lineage walk goes from its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
    Both,
}

impl Direction {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "up" => Some(Self::Up),
            "down" => Some(Self::Down),
            "both" => Some(Self::Both),
            _ => None,
        }
    }
}

/// A lineage walk's bounds: the default and the hard caps.
pub const LINEAGE_DEFAULT_DEPTH: u32 = 3;
pub const LINEAGE_MAX_DEPTH: u32 = 10;
pub const LINEAGE_MAX_NODES: u32 = 2_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineageNode {
    #[serde(flatten)]
    pub asset: AssetSummary,
    /// Steps from the root; negative upstream, positive downstream, 0 for the root.
    pub distance: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineageEdge {
    pub from: Ref,
    pub to: Ref,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Lineage {
    pub root: Ref,
    pub direction: Direction,
    /// The depth walked (the request's, within the hard cap).
    pub depth: u32,
    pub nodes: Vec<LineageNode>,
    pub edges: Vec<LineageEdge>,
    /// True when the node cap or the depth cap cut the walk short.
    pub truncated: bool,
}

/// One change to the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// The token (`token:<name>`) or source that wrote it.
    pub actor: String,
    /// `org_unit`, `asset`, `edge` or `measurement`.
    pub subject: String,
    /// `created`, `updated` or `deleted`.
    pub op: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    /// What happened, for people: a registry operation's own sentence, else subject and op
    /// ("edge created").
    pub fn describe(&self) -> String {
        let summary = (self.subject == "operation")
            .then(|| self.after.as_ref()?.get("summary")?.as_str())
            .flatten();
        summary.map_or_else(
            || format!("{} {}", self.subject, self.op.replace('_', " ")),
            str::to_string,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct History {
    pub asset: Ref,
    pub changes: Vec<Change>,
    /// Pass as `before` for the next, older page.
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchHit {
    #[serde(flatten)]
    pub asset: AssetSummary,
    pub description: String,
    pub tags: serde_json::Value,
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Pass as `offset` for the next page; absent on the last page.
    pub next_offset: Option<i64>,
    /// Org units whose name contains the text (on the first page of a text search with no kind
    /// or tag; at most 20).
    #[serde(default)]
    pub units: Vec<UnitHit>,
}

/// An org unit a search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitHit {
    pub source: String,
    pub id: String,
    pub name: String,
    /// The names of the units above it, from the top.
    pub ancestors: Vec<String>,
}

/// Which binary a deployment served at a moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Serving {
    pub deployment: Ref,
    pub deployment_name: String,
    pub binary: Ref,
    /// The deployment's status at that moment, as the history knows it.
    pub status: Option<String>,
    pub since: String,
    pub until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServingAsOf {
    pub asset: Ref,
    pub as_of: String,
    pub serving: Vec<Serving>,
}
