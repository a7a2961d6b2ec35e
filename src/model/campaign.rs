//! Campaigns: a goal in the catalog's terms ("every model source in production at fairness level
//! 2 or higher") over a selection of models, with a start, a deadline and an owner; its progress
//! from the snapshots, the pace and the date it projects, and the models still short with what
//! would lift each. The wire types and the pure rules (the goal's words, the projection).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::governance::covers;
use super::metrics::{Catalog, Level, UnitName};
use super::record::Ref;
use super::registry::Stage;

/// Longest campaign name and owner, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Most org units and tags a selection names.
pub const MAX_SELECTION: usize = 50;
/// Most short models a campaign page lists (the counts cover them all).
pub const SHORT_SHOWN: i64 = 100;

/// A campaign to create (editors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    pub name: String,
    /// `overall`, `domain:<id>` or `metric:<id>`.
    pub scope: String,
    /// The level every selected model source must reach in `scope`.
    pub min_level: Level,
    /// The org units whose model sources (theirs and below) are selected; none: the company.
    #[serde(default)]
    pub units: Vec<Ref>,
    /// Tags every selected model source carries.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Selected model sources have a deployment in this status now.
    #[serde(default)]
    pub deployment_status: Option<Stage>,
    /// A date (the start of that day in UTC) or an RFC 3339 time; now when absent.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// A date or an RFC 3339 time after the start.
    pub deadline: String,
    /// Who answers for it (a person or a team, in words).
    pub owner: String,
}

/// A campaign as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub min_level: Level,
    pub units: Vec<UnitName>,
    pub tags: BTreeMap<String, String>,
    pub deployment_status: Option<Stage>,
    /// RFC 3339.
    pub starts_at: String,
    pub deadline: String,
    pub owner: String,
    pub created_by: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    /// The goal in words: "every model source of Payments in production at domain:fairness level
    /// 2 (managed) or higher".
    pub goal: String,
}

/// How many selected model sources meet the goal, are exempt, and are selected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    pub met: i64,
    pub exempt: i64,
    pub total: i64,
}

impl Progress {
    /// Selected models neither meeting the goal nor exempt.
    pub fn short(&self) -> i64 {
        (self.total - self.met - self.exempt).max(0)
    }
}

/// One point of the burn-down: how many were short at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BurnPoint {
    /// RFC 3339.
    pub at: String,
    pub progress: Progress,
}

/// One org unit's share of a campaign; unit id 0 is the models no unit owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitProgress {
    pub unit: UnitName,
    pub progress: Progress,
}

/// A model source still short of the goal, and what would lift it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShortModel {
    pub model: Ref,
    pub name: String,
    pub level: Option<Level>,
    /// What would lift it, one sentence per metric below the goal.
    pub lift: Vec<String>,
}

/// A campaign as its page shows it, as of one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignPage {
    pub campaign: Campaign,
    pub snapshot: super::metrics::SnapshotMeta,
    pub progress: Progress,
    pub units: Vec<UnitProgress>,
    pub burn_down: Vec<BurnPoint>,
    /// The burn-down drawn (SVG), against the straight line to none short at the deadline.
    pub burn_down_svg: String,
    /// Short models fixed per week, over the burn-down so far.
    pub pace_per_week: Option<f64>,
    /// When the last short model would be fixed at that pace (a date), if it is fixing any.
    pub projected: Option<String>,
    pub short: Vec<ShortModel>,
    /// The figures kept when it was closed.
    pub final_figures: Option<serde_json::Value>,
}

/// The scopes whose exemptions cover `scope` (its own, and a metric's domain's): a selected
/// model an exemption covers counts as exempt, not short.
pub fn exempting(catalog: &Catalog, scope: &str) -> Vec<String> {
    catalog
        .scopes()
        .into_iter()
        .filter(|s| s != "overall" && covers(catalog, s, scope))
        .collect()
}

/// The goal in words.
pub fn goal(
    scope: &str,
    min_level: Level,
    units: &[UnitName],
    tags: &BTreeMap<String, String>,
    status: Option<Stage>,
) -> String {
    let mut parts = vec!["every model source".to_string()];
    if !units.is_empty() {
        let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
        parts.push(format!("of {}", names.join(", ")));
    }
    if !tags.is_empty() {
        let pairs: Vec<String> = tags.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        parts.push(format!("tagged {}", pairs.join(", ")));
    }
    if let Some(status) = status {
        parts.push(format!("in {status}"));
    }
    parts.push(format!("at {scope} level {min_level} or higher"));
    parts.join(" ")
}

/// The pace (short models fixed per week) from the first point to the last, and the day the
/// last short one would be fixed at it (`None` when the pace fixes none). Times are seconds
/// since the epoch; the date is computed by `date_of`.
pub fn projection(
    first: (i64, i64),
    last: (i64, i64),
    date_of: impl Fn(i64) -> String,
) -> (Option<f64>, Option<String>) {
    let ((t0, short0), (t1, short1)) = (first, last);
    let weeks = (t1 - t0) as f64 / (7.0 * 86_400.0);
    let pace = (weeks > 0.0).then(|| (short0 - short1) as f64 / weeks);
    // None short: done, on the last point's day, however little time it took.
    if short1 == 0 {
        return (pace, Some(date_of(t1)));
    }
    let Some(pace) = pace else {
        return (None, None);
    };
    if pace <= 0.0 {
        return (Some(pace), None);
    }
    // Seconds to a date within years: far inside i64.
    #[allow(clippy::cast_possible_truncation)]
    let seconds = (short1 as f64 / pace * 7.0 * 86_400.0).ceil().min(1e12) as i64;
    (Some(pace), Some(date_of(t1 + seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_goal_reads_as_the_catalog_says_it() {
        let units = vec![UnitName {
            id: 1,
            source: "hr".into(),
            external_id: "pay".into(),
            name: "Payments".into(),
        }];
        let tags = BTreeMap::from([("tier".to_string(), "1".to_string())]);
        assert_eq!(
            goal(
                "domain:fairness",
                Level::MANAGED,
                &units,
                &tags,
                Some(Stage::Production)
            ),
            "every model source of Payments tagged tier:1 in production at domain:fairness level 2 (managed) or higher"
        );
        assert_eq!(
            goal("overall", Level::BASIC, &[], &BTreeMap::new(), None),
            "every model source at overall level 1 (basic) or higher"
        );
    }

    #[test]
    fn the_projection_follows_the_pace_so_far() {
        let day = 86_400;
        let date = |t: i64| format!("day {}", t / day);
        // 10 short, then 6 a week later: 4 a week, 6 left, so 1.5 weeks more: day 17.5.
        let (pace, when) = projection((0, 10), (7 * day, 6), date);
        assert_eq!(pace, Some(4.0));
        assert_eq!(when.as_deref(), Some("day 17"));
        // No progress: no date.
        assert_eq!(projection((0, 5), (7 * day, 5), date).1, None);
        // Done: the day it was done.
        assert_eq!(
            projection((0, 5), (3 * day, 0), date).1.as_deref(),
            Some("day 3")
        );
        // One point: no pace yet; done within it: done that day.
        assert_eq!(projection((0, 5), (0, 5), date), (None, None));
        assert_eq!(
            projection((0, 1), (0, 0), date),
            (None, Some("day 0".to_string()))
        );
        assert_eq!(
            Progress {
                met: 3,
                exempt: 1,
                total: 10
            }
            .short(),
            6
        );
    }
}
