//! Maturity metrics: the catalog's shape, levels, bucketing, the two aggregation rules, rollup
//! counts and "what would lift it". Pure logic, shared by the server and the browser.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One of the four maturity levels: 0 at risk, 1 basic, 2 managed, 3 optimized.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct Level(u8);

impl Level {
    pub const AT_RISK: Level = Level(0);
    pub const BASIC: Level = Level(1);
    pub const MANAGED: Level = Level(2);
    pub const OPTIMIZED: Level = Level(3);
    pub const ALL: [Level; 4] = [Self::AT_RISK, Self::BASIC, Self::MANAGED, Self::OPTIMIZED];

    pub fn new(value: u8) -> Option<Self> {
        (value <= 3).then_some(Self(value))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "at risk",
            1 => "basic",
            2 => "managed",
            _ => "optimized",
        }
    }
}

impl TryFrom<u8> for Level {
    type Error = String;

    fn try_from(value: u8) -> Result<Self, String> {
        Level::new(value).ok_or_else(|| format!("a level is 0-3, not {value}"))
    }
}

impl From<Level> for u8 {
    fn from(level: Level) -> u8 {
        level.0
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.name())
    }
}

/// Which way a metric's value improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// How a metric's value reads to a person: its number with a short unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    /// "12.5 days"
    Days,
    /// "3"
    Count,
    /// "120 ms"
    Ms,
    /// "4.2 kWh"
    Kwh,
    /// A share from 0 to 1 as a percentage: "75%".
    Share,
    /// 1 or 0 as "yes" or "no".
    Flag,
    /// "240 characters"
    Chars,
    /// A change in a share, in points: "+1.5 points".
    Points,
    /// The number as it is.
    #[default]
    Number,
}

impl Shown {
    pub const ALL: [(&'static str, Self); 9] = [
        ("days", Self::Days),
        ("count", Self::Count),
        ("ms", Self::Ms),
        ("kwh", Self::Kwh),
        ("share", Self::Share),
        ("flag", Self::Flag),
        ("chars", Self::Chars),
        ("points", Self::Points),
        ("number", Self::Number),
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, shown)| *shown)
    }

    /// `value` as a person reads it.
    pub fn show(self, value: f64) -> String {
        match self {
            Self::Days => {
                let days = format!("{value:.1}");
                let days = days.strip_suffix(".0").unwrap_or(&days).to_string();
                if days == "1" {
                    "1 day".into()
                } else {
                    format!("{days} days")
                }
            }
            Self::Count => number(value.round()),
            Self::Ms => format!("{} ms", number(value.round())),
            Self::Kwh => format!("{} kWh", number((value * 10.0).round() / 10.0)),
            Self::Share => format!("{}%", number((value * 100.0).round())),
            Self::Flag => if value >= 0.5 { "yes" } else { "no" }.into(),
            Self::Chars => format!("{} characters", number(value.round())),
            Self::Points => {
                let points = (value * 1000.0).round() / 10.0;
                format!(
                    "{}{} points",
                    if points > 0.0 { "+" } else { "" },
                    number(points)
                )
            }
            Self::Number => number(value),
        }
    }
}

/// How a domain (or the overall level) combines the levels below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The floor of the weighted mean of the known levels.
    Mean,
    /// The worst known level.
    Min,
}

/// Where a metric's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "from", content = "name", rename_all = "snake_case")]
pub enum Source {
    /// A fact read off the graph (see [`COMPUTED_FACTS`]).
    Computed(String),
    /// The newest reported measurement of this name for the binary judged.
    Measurement(String),
}

/// The facts the evaluation computes from the graph, for `computed:<fact>` sources.
pub const COMPUTED_FACTS: [&str; 12] = [
    "retraining_age_days",
    "binaries_behind_newest",
    "safety_evaluation_present",
    "safety_evaluation_age_days",
    "fairness_evaluation_present",
    "lineage_completeness",
    "owned_dataset_share",
    "security_scan_age_days",
    "has_owning_unit",
    "named_owner_count",
    "description_length",
    "failed_run_share",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Domain {
    pub id: String,
    pub name: String,
    pub rule: Rule,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Metric {
    pub id: String,
    pub domain: String,
    pub question: String,
    pub source: Source,
    pub unit: String,
    pub direction: Better,
    /// Where levels 1, 2 and 3 begin.
    pub thresholds: [f64; 3],
    pub weight: f64,
    /// What is judged: which binaries, runs or fields of the model source.
    #[serde(default)]
    pub judged: String,
    pub unknown_when: String,
    /// The thresholds in words, with the side of each that is inclusive (from `direction`,
    /// `thresholds` and `unit`; empty in snapshots older than it).
    #[serde(default)]
    pub levels: String,
    /// How its value reads: a number with a short unit.
    #[serde(default)]
    pub shown_as: Shown,
}

impl Metric {
    /// `value` with its short unit ("12.5 days", "75%").
    pub fn show(&self, value: f64) -> String {
        let shown = self.shown_as.show(value);
        if self.shown_as != Shown::Count {
            return shown;
        }
        // A count says what it counts, from the catalog's unit: "2 newer binaries",
        // "1 distinct named owner".
        let noun = self
            .unit
            .split(['(', ','])
            .next()
            .unwrap_or_default()
            .split(" than ")
            .next()
            .unwrap_or_default()
            .trim();
        if noun.is_empty() {
            return shown;
        }
        if shown == "1" {
            let one = noun
                .strip_suffix("ies")
                .map(|stem| format!("{stem}y"))
                .or_else(|| noun.strip_suffix('s').map(str::to_string))
                .unwrap_or_else(|| noun.to_string());
            format!("1 {one}")
        } else {
            format!("{shown} {noun}")
        }
    }

    /// True for the computed ages (`…_age_days`): their value grows with time while nothing
    /// is written, so a result kept from an earlier snapshot is read with the days since added.
    pub fn grows_with_time(&self) -> bool {
        matches!(&self.source, Source::Computed(name) if name.ends_with("_age_days"))
    }
}

/// A metric's thresholds in words, each level's inclusive side named: with `Better::Lower`,
/// "level 3 (optimized) at or below 30; level 2 (managed) at or below 90; level 1 (basic) at or
/// below 180; level 0 (at risk) above 180 (days since …)".
pub fn levels_text(direction: Better, thresholds: [f64; 3], unit: &str) -> String {
    let (reach, miss) = match direction {
        Better::Higher => ("at or above", "below"),
        Better::Lower => ("at or below", "above"),
    };
    let names = ["basic", "managed", "optimized"];
    let mut parts: Vec<String> = (0..3)
        .rev()
        .map(|i| {
            format!(
                "level {} ({}) {reach} {}",
                i + 1,
                names[i],
                number(thresholds[i])
            )
        })
        .collect();
    parts.push(format!(
        "level 0 (at risk) {miss} {}",
        number(thresholds[0])
    ));
    format!("{} ({unit})", parts.join("; "))
}

/// The whole catalog, with its version (a content hash of the file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Catalog {
    pub version: String,
    pub overall_rule: Rule,
    pub domains: Vec<Domain>,
    pub metrics: Vec<Metric>,
    /// The promotion gates (none in snapshots older than them).
    #[serde(default)]
    pub gates: Vec<Gate>,
}

/// One requirement of a gate: the model source's level in `scope` must be at least `level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Requirement {
    /// `domain:<id>` or `metric:<id>` (or `overall`).
    pub scope: String,
    pub level: Level,
}

/// What a model source must meet before a deployment of it enters `status` (by a promotion, or
/// by a deployment in that status taking another binary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Gate {
    pub status: super::registry::Stage,
    pub require: Vec<Requirement>,
}

impl Catalog {
    /// Every scope a model is judged in, in the order results are stored: each metric, each
    /// domain, then overall.
    pub fn scopes(&self) -> Vec<String> {
        self.metrics
            .iter()
            .map(|m| format!("metric:{}", m.id))
            .chain(self.domains.iter().map(|d| format!("domain:{}", d.id)))
            .chain(std::iter::once("overall".to_string()))
            .collect()
    }

    /// 400 unless `scope` is one of this catalog's.
    pub fn check_scope(&self, scope: &str) -> Result<(), crate::error::AppError> {
        if self.scopes().iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(crate::error::AppError::BadRequest(format!(
                "scope {scope:?} is not one of the catalog's: overall, domain:<id>, metric:<id>"
            )))
        }
    }

    pub fn metric(&self, id: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.id == id)
    }

    pub fn domain(&self, id: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.id == id)
    }
}

/// The level a value reaches, or `None` (unknown) without a value.
pub fn bucket(value: Option<f64>, direction: Better, thresholds: [f64; 3]) -> Option<Level> {
    let value = value.filter(|v| v.is_finite())?;
    let reached = thresholds
        .iter()
        .filter(|t| match direction {
            Better::Higher => value >= **t,
            Better::Lower => value <= **t,
        })
        .count();
    Level::new(u8::try_from(reached).unwrap_or(3))
}

/// Combines levels by `rule`, ignoring unknown ones (and zero or negative weights); `None` when no
/// level is known.
pub fn aggregate(rule: Rule, inputs: &[(Option<Level>, f64)]) -> Option<Level> {
    let known = inputs
        .iter()
        .filter_map(|(level, weight)| Some((level.as_ref()?, *weight)))
        .filter(|(_, weight)| *weight > 0.0);
    match rule {
        Rule::Min => known.map(|(level, _)| *level).min(),
        Rule::Mean => {
            let (sum, weights) = known.fold((0.0, 0.0), |(sum, weights), (level, weight)| {
                (sum + f64::from(level.get()) * weight, weights + weight)
            });
            if weights > 0.0 {
                // A tiny tolerance keeps 2.9999999 (from weights like 0.1) at 3.
                let mean = sum / weights + 1e-9;
                Level::ALL
                    .into_iter()
                    .rev()
                    .find(|level| f64::from(level.get()) <= mean)
            } else {
                None
            }
        }
    }
}

/// How many models of a unit sit at each level of one scope, and their mean level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counts {
    pub levels: [i64; 4],
    pub unknown: i64,
    /// Models whose result in this scope an active exemption covers: counted here instead of
    /// at their level (accepted risk shown as such), and left out of the mean.
    #[serde(default)]
    pub exempt: i64,
}

impl Counts {
    pub fn add(&mut self, level: Option<Level>) {
        match level {
            Some(level) => self.levels[usize::from(level.get())] += 1,
            None => self.unknown += 1,
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        for (mine, theirs) in self.levels.iter_mut().zip(other.levels) {
            *mine += theirs;
        }
        self.unknown += other.unknown;
        self.exempt += other.exempt;
    }

    pub fn total(&self) -> i64 {
        self.levels.iter().sum::<i64>() + self.unknown + self.exempt
    }

    /// The mean level of the models whose level is known and not exempt; `None` when none is.
    pub fn score(&self) -> Option<f64> {
        let known: i64 = self.levels.iter().sum();
        (known > 0).then(|| {
            let sum: i64 = self
                .levels
                .iter()
                .zip(0..)
                .map(|(n, level)| n * level)
                .sum();
            sum as f64 / known as f64
        })
    }
}

/// What a metric needs to reach level `target`, in words, or `None` when it is there already.
pub fn lift_to(metric: &Metric, value: Option<f64>, target: Level) -> Option<String> {
    let Some(value) = value else {
        return Some(format!(
            "Unknown: {}. Report or record it to be judged.",
            metric.unknown_when
        ));
    };
    let level = bucket(Some(value), metric.direction, metric.thresholds)?;
    if level >= target || target == Level::AT_RISK {
        return None;
    }
    let threshold = metric.thresholds[usize::from(target.get()) - 1];
    let comparison = match metric.direction {
        Better::Higher => "at least",
        Better::Lower => "at most",
    };
    Some(format!(
        "{comparison} {} ({}) reaches level {target}; it is {} now",
        number(threshold),
        metric.unit,
        metric.show(value)
    ))
}

/// What a metric needs to reach the next level, in words, or `None` at the top level.
pub fn lift(metric: &Metric, value: Option<f64>) -> Option<String> {
    let Some(value) = value else {
        return Some(format!(
            "Unknown: {}. Report or record it to be judged.",
            metric.unknown_when
        ));
    };
    let level = bucket(Some(value), metric.direction, metric.thresholds)?;
    let next = Level::new(level.get() + 1)?;
    let threshold = metric.thresholds[usize::from(level.get())];
    let comparison = match metric.direction {
        Better::Higher => "at least",
        Better::Lower => "at most",
    };
    Some(format!(
        "{comparison} {} ({}) reaches level {next}; it is {} now",
        number(threshold),
        metric.unit,
        metric.show(value)
    ))
}

/// A number as people write it: no trailing zeros, at most three decimals.
pub fn number(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_told_with_their_inclusive_side() {
        assert_eq!(
            levels_text(Better::Lower, [180.0, 90.0, 30.0], "days since the run"),
            "level 3 (optimized) at or below 30; level 2 (managed) at or below 90; \
             level 1 (basic) at or below 180; level 0 (at risk) above 180 (days since the run)"
        );
        assert_eq!(
            levels_text(Better::Higher, [0.4, 0.8, 1.0], "share"),
            "level 3 (optimized) at or above 1; level 2 (managed) at or above 0.8; \
             level 1 (basic) at or above 0.4; level 0 (at risk) below 0.4 (share)"
        );
        assert!(levels_text(Better::Higher, [-0.02, 0.0, 0.01], "x").contains("at or above -0.02"));
    }

    const HIGHER: [f64; 3] = [0.4, 0.8, 1.0];
    const LOWER: [f64; 3] = [180.0, 90.0, 30.0];

    fn l(value: u8) -> Option<Level> {
        Level::new(value)
    }

    #[test]
    fn bucketing_higher_is_better() {
        assert_eq!(bucket(Some(0.0), Better::Higher, HIGHER), l(0));
        assert_eq!(
            bucket(Some(0.4), Better::Higher, HIGHER),
            l(1),
            "a threshold is reached at equality"
        );
        assert_eq!(bucket(Some(0.79), Better::Higher, HIGHER), l(1));
        assert_eq!(bucket(Some(0.8), Better::Higher, HIGHER), l(2));
        assert_eq!(bucket(Some(1.0), Better::Higher, HIGHER), l(3));
        assert_eq!(bucket(Some(7.0), Better::Higher, HIGHER), l(3));
    }

    #[test]
    fn bucketing_lower_is_better() {
        assert_eq!(bucket(Some(400.0), Better::Lower, LOWER), l(0));
        assert_eq!(bucket(Some(180.0), Better::Lower, LOWER), l(1));
        assert_eq!(bucket(Some(90.0), Better::Lower, LOWER), l(2));
        assert_eq!(bucket(Some(0.0), Better::Lower, LOWER), l(3));
    }

    #[test]
    fn bucketing_presence_and_unknown() {
        assert_eq!(bucket(Some(1.0), Better::Higher, [1.0, 1.0, 1.0]), l(3));
        assert_eq!(bucket(Some(0.0), Better::Higher, [1.0, 1.0, 1.0]), l(0));
        assert_eq!(
            bucket(None, Better::Higher, HIGHER),
            None,
            "no value is unknown, not 0"
        );
        assert_eq!(bucket(Some(f64::NAN), Better::Lower, LOWER), None);
    }

    #[test]
    fn mean_is_the_floor_of_the_weighted_mean_of_known_levels() {
        assert_eq!(aggregate(Rule::Mean, &[(l(3), 1.0), (l(2), 1.0)]), l(2));
        assert_eq!(aggregate(Rule::Mean, &[(l(3), 2.0), (l(0), 1.0)]), l(2));
        assert_eq!(aggregate(Rule::Mean, &[(l(3), 1.0), (l(0), 2.0)]), l(1));
        assert_eq!(
            aggregate(Rule::Mean, &[(l(3), 1.0), (None, 5.0)]),
            l(3),
            "unknown is not failing"
        );
        assert_eq!(aggregate(Rule::Mean, &[(l(3), 0.1), (l(3), 0.2)]), l(3));
    }

    #[test]
    fn min_is_the_worst_known_level() {
        assert_eq!(
            aggregate(Rule::Min, &[(l(3), 1.0), (l(1), 1.0), (None, 1.0)]),
            l(1)
        );
        assert_eq!(
            aggregate(Rule::Min, &[(None, 1.0), (l(2), 1.0)]),
            l(2),
            "unknown is not passing either"
        );
    }

    #[test]
    fn nothing_known_is_unknown() {
        assert_eq!(aggregate(Rule::Mean, &[]), None);
        assert_eq!(aggregate(Rule::Min, &[]), None);
        assert_eq!(aggregate(Rule::Mean, &[(None, 1.0), (None, 2.0)]), None);
        assert_eq!(aggregate(Rule::Min, &[(None, 1.0)]), None);
    }

    #[test]
    fn counts_score_only_known_levels() {
        let mut counts = Counts::default();
        for level in [l(0), l(3), l(3), None] {
            counts.add(level);
        }
        assert_eq!(counts.levels, [1, 0, 0, 2]);
        assert_eq!(counts.unknown, 1);
        assert_eq!(counts.total(), 4);
        assert_eq!(counts.score(), Some(2.0));
        assert_eq!(Counts::default().score(), None);
    }

    #[test]
    fn lift_names_the_threshold_or_the_missing_fact() {
        let metric = Metric {
            id: "freshness".into(),
            domain: "model_quality".into(),
            question: "?".into(),
            source: Source::Computed("retraining_age_days".into()),
            unit: "days".into(),
            direction: Better::Lower,
            thresholds: LOWER,
            weight: 1.0,
            judged: "the binary in production".into(),
            unknown_when: "no run is known".into(),
            levels: String::new(),
            shown_as: Shown::Days,
        };
        assert_eq!(
            lift(&metric, Some(120.0)).unwrap(),
            "at most 90 (days) reaches level 2 (managed); it is 120 days now"
        );
        assert_eq!(
            lift(&metric, Some(5.0)),
            None,
            "nothing lifts the top level"
        );
        assert!(lift(&metric, None).unwrap().contains("no run is known"));
        assert_eq!(
            lift_to(&metric, Some(120.0), Level::OPTIMIZED).unwrap(),
            "at most 30 (days) reaches level 3 (optimized); it is 120 days now"
        );
        assert_eq!(lift_to(&metric, Some(120.0), Level::BASIC), None);
        assert_eq!(number(0.050), "0.05");
    }
}

/// Which snapshot of results an answer comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SnapshotMeta {
    pub id: i64,
    /// RFC 3339.
    pub computed_at: String,
    pub catalog_version: String,
}

/// An org unit as scorecards name it; `id` 0 is the row of models no unit owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitName {
    pub id: i64,
    pub source: String,
    pub external_id: String,
    pub name: String,
}

/// One unit's counts and score in one scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScopeRollup {
    pub scope: String,
    pub counts: Counts,
    pub score: Option<f64>,
}

/// A unit's scorecard: every scope's rollup, from one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scorecard {
    pub unit: UnitName,
    pub snapshot: SnapshotMeta,
    pub rollups: Vec<ScopeRollup>,
}

/// A unit's rollup in one scope: how a child is ranked, a row of the spread, a row of a unit
/// page's children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChildRollup {
    pub unit: UnitName,
    pub counts: Counts,
    pub score: Option<f64>,
}

/// One model as the "holding back" list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ModelLevelRow {
    pub model: crate::model::record::Ref,
    pub name: String,
    pub level: Option<Level>,
    pub at_risk_metrics: i64,
}

/// A unit's counts and score in one scope at one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrendPoint {
    pub computed_at: String,
    pub counts: Counts,
    pub score: Option<f64>,
}

/// One unit's rollup in one scope, with its place in the tree (the rollup's fields flattened:
/// the JSON has them at the top).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitRollupRow {
    #[serde(flatten)]
    pub rollup: ChildRollup,
    pub parent_id: Option<i64>,
    pub depth: i32,
}

/// One metric's result for one model, with the evidence that decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MetricResult {
    pub metric: String,
    pub domain: String,
    pub question: String,
    pub level: Option<Level>,
    pub value: Option<f64>,
    /// The value with its unit, as a person reads it ("12.5 days", "75%").
    #[serde(default)]
    pub shown: Option<String>,
    /// What would reach the next level; `None` at the top.
    pub lift: Option<String>,
    /// Why it has this level, in sentences naming the runs, binaries, datasets and reports it
    /// rests on.
    #[serde(default)]
    pub because: Vec<Vec<crate::model::evidence::Part>>,
    pub evidence: serde_json::Value,
}

/// Everything modelgov knows of one model source's maturity, from one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ModelMetrics {
    pub model: crate::model::record::Ref,
    pub name: String,
    pub snapshot: SnapshotMeta,
    /// `production`, `newest_binary` (nothing in production) or `no_binary`.
    pub judged_on: String,
    pub judged_binaries: Vec<crate::model::record::Ref>,
    pub overall: Option<Level>,
    pub domains: Vec<(String, Option<Level>)>,
    pub metrics: Vec<MetricResult>,
}

/// The evidence of one metric result: the value, the rule that bucketed it, what was judged.
pub fn metric_evidence(
    metric: &Metric,
    value: Option<f64>,
    judged_on: &str,
    binaries: &[crate::model::record::Ref],
    catalog_version: &str,
) -> serde_json::Value {
    let comparison = match metric.direction {
        Better::Higher => ">=",
        Better::Lower => "<=",
    };
    let level = bucket(value, metric.direction, metric.thresholds);
    let decided_by = match (value, level) {
        (None, _) => format!("unknown: {}", metric.unknown_when),
        (Some(v), Some(l)) if l.get() == 0 => format!(
            "{} is not {comparison} {} (level 1)",
            number(v),
            number(metric.thresholds[0])
        ),
        (Some(v), Some(l)) => format!(
            "{} {comparison} {} (level {})",
            number(v),
            number(metric.thresholds[usize::from(l.get()) - 1]),
            l.get()
        ),
        (Some(_), None) => "no level".into(),
    };
    serde_json::json!({
        "source": metric.source,
        "value": value,
        "unit": metric.unit,
        "direction": metric.direction,
        "thresholds": metric.thresholds,
        "decided_by": decided_by,
        "judged_on": judged_on,
        "binaries": binaries,
        "catalog_version": catalog_version,
    })
}
