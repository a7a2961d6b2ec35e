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

/// The depths a page offers for a drawn lineage (steps each way).
pub const PAGE_LINEAGE_DEPTHS: [u32; 5] = [1, 2, 3, 4, 5];

impl Lineage {
    /// The part of the walk a page draws: the nodes `direction` of the root (both ways, only
    /// upstream or only downstream) within `depth` steps, and every edge (a drawing leaves out
    /// the edges whose ends it does not draw).
    #[must_use]
    pub fn within(&self, direction: Direction, depth: u32) -> Lineage {
        let depth = i32::try_from(depth).unwrap_or(i32::MAX);
        let wanted = |d: i32| {
            d.abs() <= depth
                && match direction {
                    Direction::Up => d <= 0,
                    Direction::Down => d >= 0,
                    Direction::Both => true,
                }
        };
        Lineage {
            root: self.root.clone(),
            direction,
            depth: u32::try_from(depth).unwrap_or(0),
            nodes: self
                .nodes
                .iter()
                .filter(|n| wanted(n.distance))
                .cloned()
                .collect(),
            edges: self.edges.clone(),
            truncated: self.truncated,
        }
    }
}

/// A page's choice of lineage from its address: `direction` (`up`, `down`, `both`) and `depth`
/// (1-5), each `None` when absent; an error names a value that is neither.
pub fn page_lineage_choice(
    direction: Option<&str>,
    depth: Option<&str>,
) -> Result<(Option<Direction>, Option<u32>), String> {
    let direction = match direction.filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(
            Direction::parse(d)
                .ok_or_else(|| format!("direction must be up, down or both, not {d:?}"))?,
        ),
    };
    let depth = match depth.filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(
            d.parse::<u32>()
                .ok()
                .filter(|d| PAGE_LINEAGE_DEPTHS.contains(d))
                .ok_or_else(|| format!("depth must be a whole number from 1 to 5, not {d:?}"))?,
        ),
    };
    Ok((direction, depth))
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
    /// For a link, the asset at its other end (as the asset's history sees it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<AssetSummary>,
}

impl Change {
    /// What happened, for people: a registry operation's own sentence, else subject and op
    /// ("edge created").
    pub fn describe(&self) -> String {
        let field = |row: &Option<serde_json::Value>, key: &str| -> Option<String> {
            let value = row.as_ref()?.get(key)?;
            Some(
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string),
            )
        };
        let kind = |row: &Option<serde_json::Value>, key: &str| {
            field(row, key).map(|k| k.replace('_', " "))
        };
        let op = self.op.replace('_', " ");
        match self.subject.as_str() {
            "operation" => {
                field(&self.after, "summary").unwrap_or_else(|| format!("operation {op}"))
            }
            "measurement" => match (field(&self.after, "name"), field(&self.after, "value")) {
                (Some(name), Some(value)) => format!("{name} = {value} reported ({op})"),
                _ => format!("measurement {op}"),
            },
            "edge" => {
                let row = if self.after.is_some() {
                    &self.after
                } else {
                    &self.before
                };
                // Named by the asset at the other end when the history knows it: upstream of
                // this one when its kind is the edge's `from` kind.
                let other = self.other.as_ref().map(|o| {
                    let upstream = field(row, "from_kind").as_deref() == Some(o.kind.as_str());
                    (upstream, format!("{} “{}”", o.kind.label(), o.name))
                });
                match (kind(row, "from_kind"), kind(row, "to_kind"), other) {
                    (Some(_), Some(to), Some((true, other))) if self.op == "updated" => {
                        format!("the {to} now comes from the {other}")
                    }
                    (Some(_), Some(_), Some((false, other))) if self.op == "updated" => {
                        format!("the {other} now comes from it")
                    }
                    (Some(from), Some(to), None) if self.op == "updated" => {
                        format!("the {to} now comes from another {from}")
                    }
                    (Some(_), Some(_), Some((true, other))) => {
                        format!("link from the {other} {op}")
                    }
                    (Some(_), Some(_), Some((false, other))) => format!("link to the {other} {op}"),
                    (Some(from), Some(to), None) => format!("link from a {from} to a {to} {op}"),
                    _ => format!("edge {op}"),
                }
            }
            "asset" | "org_unit" if self.op == "created" => {
                let what =
                    kind(&self.after, "kind").unwrap_or_else(|| self.subject.replace('_', " "));
                match field(&self.after, "name") {
                    Some(name) => format!("{what} “{name}” created"),
                    None => format!("{what} created"),
                }
            }
            "asset" | "org_unit" => {
                // What changed, field by field (long texts by name only).
                let changed: Vec<String> = self
                    .after
                    .as_ref()
                    .and_then(serde_json::Value::as_object)
                    .map(|after| {
                        after
                            .iter()
                            .filter(|(key, value)| {
                                field(&self.before, key).as_deref()
                                    != Some(
                                        value
                                            .as_str()
                                            .map_or_else(|| value.to_string(), str::to_string)
                                            .as_str(),
                                    )
                            })
                            .map(|(key, value)| {
                                let old = field(&self.before, key).unwrap_or_default();
                                let new = value
                                    .as_str()
                                    .map_or_else(|| value.to_string(), str::to_string);
                                if old.chars().count() + new.chars().count() <= 60
                                    && !matches!(key.as_str(), "description" | "tags" | "owners")
                                {
                                    format!("{} {old} → {new}", key.replace('_', " "))
                                } else {
                                    format!("{} changed", key.replace('_', " "))
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if changed.is_empty() {
                    format!("{} {op}", self.subject.replace('_', " "))
                } else {
                    changed.join("; ")
                }
            }
            _ => format!("{} {op}", self.subject.replace('_', " ")),
        }
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

/// An org unit a search found: the unit as scorecards name it (flattened: the JSON has its
/// fields at the top) and where it sits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitHit {
    #[serde(flatten)]
    pub unit: crate::model::metrics::UnitName,
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

/// A period in which a deployment served one binary (RFC 3339 times; `until` `None` while it
/// still does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServingPeriod {
    pub deployment: AssetSummary,
    pub binary: AssetSummary,
    pub since: String,
    pub until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServingAsOf {
    pub asset: Ref,
    pub as_of: String,
    pub serving: Vec<Serving>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        subject: &str,
        op: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Change {
        Change {
            id: 1,
            at: "2026-11-29T00:00:00Z".into(),
            actor: "token:ci".into(),
            subject: subject.into(),
            op: op.into(),
            before,
            after,
            other: None,
        }
    }

    #[test]
    fn links_name_the_asset_at_their_other_end() {
        use serde_json::json;
        let named = |kind: AssetKind, name: &str, op: &str| {
            let mut c = change(
                "edge",
                op,
                None,
                Some(json!({"from_kind": "model_binary", "to_kind": "deployment"})),
            );
            c.other = Some(AssetSummary {
                key: Ref {
                    source: "s".into(),
                    id: name.into(),
                },
                kind,
                name: name.into(),
                status: None,
            });
            c.describe()
        };
        // Seen from the deployment, the binary is upstream; seen from the binary, downstream.
        assert_eq!(
            named(AssetKind::ModelBinary, "v3", "created"),
            "link from the model binary “v3” created"
        );
        assert_eq!(
            named(AssetKind::Deployment, "prod-us", "created"),
            "link to the deployment “prod-us” created"
        );
        assert_eq!(
            named(AssetKind::ModelBinary, "v4", "updated"),
            "the deployment now comes from the model binary “v4”"
        );
        assert_eq!(
            named(AssetKind::Deployment, "prod-us", "updated"),
            "the deployment “prod-us” now comes from it"
        );
    }

    #[test]
    fn changes_say_what_changed() {
        use serde_json::json;
        assert_eq!(
            change(
                "asset",
                "created",
                None,
                Some(json!({"kind": "model_binary", "name": "ranker v2"}))
            )
            .describe(),
            "model binary “ranker v2” created"
        );
        assert_eq!(
            change(
                "asset",
                "updated",
                Some(json!({"status": "staging", "name": "p", "description": "a"})),
                Some(json!({"status": "production", "name": "p", "description": "b"}))
            )
            .describe(),
            "description changed; status staging → production"
        );
        assert_eq!(
            change(
                "edge",
                "created",
                None,
                Some(json!({"from_kind": "workflow_run", "to_kind": "model_binary"}))
            )
            .describe(),
            "link from a workflow run to a model binary created"
        );
        assert_eq!(
            change(
                "edge",
                "updated",
                None,
                Some(json!({"from_kind": "model_binary", "to_kind": "deployment"}))
            )
            .describe(),
            "the deployment now comes from another model binary"
        );
        assert_eq!(
            change(
                "measurement",
                "created",
                None,
                Some(json!({"name": "fairness_gap", "value": 0.03}))
            )
            .describe(),
            "fairness_gap = 0.03 reported (created)"
        );
        assert_eq!(
            change(
                "operation",
                "promoted",
                None,
                Some(json!({"summary": "promoted p to production"}))
            )
            .describe(),
            "promoted p to production"
        );
    }
}

#[cfg(test)]
mod lineage_choice {
    use super::*;

    fn node(id: &str, distance: i32) -> LineageNode {
        LineageNode {
            asset: AssetSummary {
                key: Ref {
                    source: "s".into(),
                    id: id.into(),
                },
                kind: AssetKind::Dataset,
                name: id.into(),
                status: None,
            },
            distance,
        }
    }

    #[test]
    fn a_page_draws_the_direction_and_depth_chosen() {
        let walk = Lineage {
            root: Ref {
                source: "s".into(),
                id: "r".into(),
            },
            direction: Direction::Both,
            depth: 5,
            nodes: vec![
                node("u2", -2),
                node("u1", -1),
                node("r", 0),
                node("d1", 1),
                node("d3", 3),
            ],
            edges: Vec::new(),
            truncated: false,
        };
        let ids = |l: Lineage| {
            l.nodes
                .into_iter()
                .map(|n| n.asset.key.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(walk.within(Direction::Up, 5)), ["u2", "u1", "r"]);
        assert_eq!(ids(walk.within(Direction::Down, 2)), ["r", "d1"]);
        assert_eq!(ids(walk.within(Direction::Both, 1)), ["u1", "r", "d1"]);
        assert_eq!(page_lineage_choice(None, Some("")), Ok((None, None)));
        assert_eq!(
            page_lineage_choice(Some("up"), Some("2")),
            Ok((Some(Direction::Up), Some(2)))
        );
        assert!(
            page_lineage_choice(Some("sideways"), None)
                .unwrap_err()
                .contains("up, down or both")
        );
        assert!(
            page_lineage_choice(None, Some("9"))
                .unwrap_err()
                .contains("from 1 to 5")
        );
    }
}
