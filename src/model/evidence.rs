//! What decided a model source's levels, told as sentences a person can follow: each names the
//! runs, binaries, datasets and reports it rests on, as links to their pages. The ids are kept
//! with every result (so a result as of a past snapshot shows what decided it then); the reader
//! resolves them to assets and this module words them.

use serde::{Deserialize, Serialize};

use super::graph::AssetSummary;
use super::metrics::{Better, Level, Metric, Shown, Source, bucket, number};

/// The graph nodes behind one model source's result, by database id, as the evaluation kept
/// them (`model_results.evidence`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceIds {
    /// The runs that produced the judged binaries.
    #[serde(default)]
    pub runs: Vec<i64>,
    /// The datasets those runs read.
    #[serde(default)]
    pub datasets: Vec<i64>,
    /// The model source's last five finished runs, newest first.
    #[serde(default)]
    pub recent_runs: Vec<i64>,
    /// The newest report of each measurement read, per judged binary and producing run.
    #[serde(default)]
    pub reports: Vec<ReportId>,
}

impl EvidenceIds {
    /// Every asset id it names.
    pub fn ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .runs
            .iter()
            .chain(&self.datasets)
            .chain(&self.recent_runs)
            .copied()
            .chain(self.reports.iter().map(|r| r.asset))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// A report kept as evidence: which asset, which measurement, its value and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportId {
    pub asset: i64,
    pub name: String,
    pub value: f64,
    /// RFC 3339.
    pub at: String,
}

/// The evidence with its assets resolved, for wording.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The judged binaries.
    pub binaries: Vec<AssetSummary>,
    /// The runs that produced them, with their end times (RFC 3339).
    pub runs: Vec<(AssetSummary, Option<String>)>,
    pub datasets: Vec<AssetSummary>,
    /// Newest first.
    pub recent_runs: Vec<AssetSummary>,
    pub reports: Vec<Report>,
}

/// A report with its asset resolved.
#[derive(Debug, Clone)]
pub struct Report {
    pub asset: AssetSummary,
    pub name: String,
    pub value: f64,
    pub at: String,
}

/// One part of a sentence: words, or an asset to open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text { text: String },
    Asset { asset: AssetSummary },
}

/// A sentence of evidence.
pub type Sentence = Vec<Part>;

fn text(words: impl Into<String>) -> Part {
    Part::Text { text: words.into() }
}

fn asset(a: &AssetSummary) -> Part {
    Part::Asset { asset: a.clone() }
}

/// "a, b and c" with each item a part of its own.
fn listed(items: &[AssetSummary]) -> Vec<Part> {
    let mut parts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            parts.push(text(if i + 1 == items.len() { " and " } else { ", " }));
        }
        parts.push(asset(item));
    }
    parts
}

/// The date of an RFC 3339 time ("2026-11-02").
fn day(at: &str) -> &str {
    at.get(..10).unwrap_or(at)
}

/// The measurement a metric reads its evidence from: its own, or the report behind a computed
/// fact about evaluations and scans.
fn report_name(metric: &Metric) -> Option<&str> {
    match &metric.source {
        Source::Measurement(name) => Some(name),
        Source::Computed(fact) => match fact.as_str() {
            "safety_evaluation_present" | "safety_evaluation_age_days" => Some("safety_evaluated"),
            "fairness_evaluation_present" => Some("fairness_gap"),
            "security_scan_age_days" => Some("security_scan_passed"),
            _ => None,
        },
    }
}

/// The sentences that say why `metric` has `value` (and so its level) for a model source judged
/// on `judged_on` (`production`, `newest_binary` or `no_binary`), from `facts`.
pub fn because(
    metric: &Metric,
    value: Option<f64>,
    judged_on: &str,
    facts: &Facts,
) -> Vec<Sentence> {
    let mut sentences: Vec<Sentence> = Vec::new();
    let the_binary = if judged_on == "production" {
        "the binary in production"
    } else {
        "the judged binary"
    };
    if judged_on == "no_binary"
        && !matches!(&metric.source, Source::Computed(f) if f == "has_owning_unit" || f == "named_owner_count" || f == "description_length" || f == "failed_run_share")
    {
        sentences.push(vec![text(
            "No binary of this model source has been registered, so there is nothing to judge here.",
        )]);
    } else if let Some(name) = report_name(metric) {
        let reports: Vec<&Report> = facts.reports.iter().filter(|r| r.name == name).collect();
        if reports.is_empty() {
            let mut s = vec![text(format!("No {name} report for {the_binary} "))];
            s.extend(listed(&facts.binaries));
            s.push(text(" or the run that produced it."));
            sentences.push(s);
        }
        for r in &reports {
            sentences.push(vec![
                asset(&r.asset),
                text(format!(
                    " reported {name} = {} on {}.",
                    metric.show(r.value),
                    day(&r.at)
                )),
            ]);
        }
        if reports.len() > 1 {
            sentences.push(vec![text("The worse of these counts.")]);
        }
    } else if let Source::Computed(fact) = &metric.source {
        match fact.as_str() {
            "retraining_age_days" => {
                for (run, ended) in &facts.runs {
                    let when = ended.as_deref().map_or_else(
                        || " has no end time, so the age is unknown.".to_string(),
                        |at| format!(" ended on {}; the age counts from then.", day(at)),
                    );
                    sentences.push(vec![
                        text("The run "),
                        asset(run),
                        text(" produced the judged binary and"),
                        text(when),
                    ]);
                }
                if facts.runs.is_empty() {
                    sentences.push(vec![text("No run is known to have produced the judged binary.")]);
                }
            }
            "binaries_behind_newest" => {
                let mut s = vec![text(format!("{} is ", capitalized(the_binary)))];
                s.extend(listed(&facts.binaries));
                s.push(text(match value {
                    Some(v) if v > 0.0 => format!("; {} newer of this model source exist.", metric.shown_as.show(v)),
                    _ => "; none newer exists.".into(),
                }));
                sentences.push(s);
            }
            "lineage_completeness" | "owned_dataset_share" => {
                for (run, _) in &facts.runs {
                    let mut s = vec![text("The run "), asset(run)];
                    if facts.datasets.is_empty() {
                        s.push(text(" names no dataset it was trained on."));
                    } else {
                        s.push(text(" was trained on "));
                        s.extend(listed(&facts.datasets));
                        s.push(text("."));
                    }
                    sentences.push(s);
                }
            }
            "failed_run_share" => {
                if facts.recent_runs.is_empty() {
                    sentences.push(vec![text("No run of this model source has finished.")]);
                } else {
                    let failed = facts
                        .recent_runs
                        .iter()
                        .filter(|r| r.status.as_deref() == Some("failed"))
                        .count();
                    let mut s = vec![text(format!(
                        "{failed} of the last {} finished runs failed: ",
                        facts.recent_runs.len()
                    ))];
                    s.extend(listed(&facts.recent_runs));
                    s.push(text("."));
                    sentences.push(s);
                }
            }
            _ => sentences.push(vec![text(
                "From the model source's own record: its owning unit, named owners and description.",
            )]),
        }
    }
    sentences.push(vec![text(decision(metric, value))]);
    sentences
}

/// The level a value reaches, in words: "12 days is at or below 30: level 3 (optimized)."
pub fn decision(metric: &Metric, value: Option<f64>) -> String {
    let Some(v) = value else {
        return format!("Unknown: {}.", metric.unknown_when.trim_end_matches('.'));
    };
    let (reach, miss) = match metric.direction {
        Better::Higher => ("at or above", "below"),
        Better::Lower => ("at or below", "above"),
    };
    // A flag reads yes or no, its thresholds as the numbers 1 and 0; other thresholds read in
    // the value's own unit.
    let flag = metric.shown_as == Shown::Flag;
    let shown = if flag {
        format!("{} ({})", metric.show(v), number(v))
    } else {
        metric.show(v)
    };
    let threshold_text = |t: f64| if flag { number(t) } else { metric.show(t) };
    match bucket(Some(v), metric.direction, metric.thresholds) {
        Some(level) if level.get() > 0 => {
            let threshold = metric.thresholds[usize::from(level.get()) - 1];
            format!(
                "{shown} is {reach} {}: level {} ({}).",
                threshold_text(threshold),
                level.get(),
                level_name(level)
            )
        }
        Some(_) => format!(
            "{shown} is {miss} {}: level 0 (at risk).",
            threshold_text(metric.thresholds[0])
        ),
        None => format!("{shown} reaches no level."),
    }
}

fn capitalized(words: &str) -> String {
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn level_name(level: Level) -> &'static str {
    match level.get() {
        0 => "at risk",
        1 => "basic",
        2 => "managed",
        _ => "optimized",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::{AssetKind, Ref};

    fn node(kind: AssetKind, id: &str, status: Option<&str>) -> AssetSummary {
        AssetSummary {
            key: Ref {
                source: "x".into(),
                id: id.into(),
            },
            kind,
            name: id.into(),
            status: status.map(str::to_string),
        }
    }

    fn metric(source: Source, direction: Better, thresholds: [f64; 3], shown_as: Shown) -> Metric {
        Metric {
            id: "m".into(),
            domain: "d".into(),
            question: "?".into(),
            source,
            unit: "u".into(),
            direction,
            thresholds,
            weight: 1.0,
            judged: "j".into(),
            unknown_when: "nothing was reported".into(),
            levels: String::new(),
            shown_as,
        }
    }

    fn words(sentences: &[Sentence]) -> Vec<String> {
        sentences
            .iter()
            .map(|s| {
                s.iter()
                    .map(|p| match p {
                        Part::Text { text } => text.clone(),
                        Part::Asset { asset } => format!("[{}]", asset.name),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_measurement_names_who_reported_it_and_the_decision_names_the_inclusive_side() {
        let gap = metric(
            Source::Measurement("fairness_gap".into()),
            Better::Lower,
            [0.1, 0.05, 0.02],
            Shown::Share,
        );
        let facts = Facts {
            binaries: vec![node(AssetKind::ModelBinary, "b1", None)],
            reports: vec![Report {
                asset: node(AssetKind::ModelBinary, "b1", None),
                name: "fairness_gap".into(),
                value: 0.05,
                at: "2026-11-02T10:00:00Z".into(),
            }],
            ..Facts::default()
        };
        assert_eq!(
            words(&because(&gap, Some(0.05), "production", &facts)),
            [
                "[b1] reported fairness_gap = 5% on 2026-11-02.",
                "5% is at or below 5%: level 2 (managed).",
            ]
        );
        assert_eq!(
            words(&because(
                &gap,
                None,
                "production",
                &Facts {
                    binaries: facts.binaries.clone(),
                    ..Facts::default()
                }
            )),
            [
                "No fairness_gap report for the binary in production [b1] or the run that produced it.",
                "Unknown: nothing was reported.",
            ]
        );
    }

    #[test]
    fn runs_datasets_and_failures_are_named() {
        let share = metric(
            Source::Computed("failed_run_share".into()),
            Better::Lower,
            [0.6, 0.4, 0.2],
            Shown::Share,
        );
        let facts = Facts {
            recent_runs: vec![
                node(AssetKind::WorkflowRun, "r3", Some("failed")),
                node(AssetKind::WorkflowRun, "r2", Some("succeeded")),
            ],
            ..Facts::default()
        };
        assert_eq!(
            words(&because(&share, Some(0.5), "newest_binary", &facts))[0],
            "1 of the last 2 finished runs failed: [r3] and [r2]."
        );
        let lineage = metric(
            Source::Computed("lineage_completeness".into()),
            Better::Higher,
            [0.4, 0.8, 1.0],
            Shown::Share,
        );
        let facts = Facts {
            runs: vec![(node(AssetKind::WorkflowRun, "r1", None), None)],
            datasets: vec![
                node(AssetKind::Dataset, "d1", None),
                node(AssetKind::Dataset, "d2", None),
            ],
            ..Facts::default()
        };
        assert_eq!(
            words(&because(&lineage, Some(1.0), "production", &facts)),
            [
                "The run [r1] was trained on [d1] and [d2].",
                "100% is at or above 100%: level 3 (optimized).",
            ]
        );
        assert_eq!(
            words(&because(
                &lineage,
                Some(0.0),
                "no_binary",
                &Facts::default()
            ))[0],
            "No binary of this model source has been registered, so there is nothing to judge here."
        );
    }

    #[test]
    fn values_read_with_their_units() {
        assert_eq!(Shown::Days.show(298.555), "298.6 days");
        assert_eq!(Shown::Days.show(1.0), "1 day");
        assert_eq!(Shown::Ms.show(342.4), "342 ms");
        assert_eq!(Shown::Share.show(0.755), "76%");
        assert_eq!(Shown::Flag.show(1.0), "yes");
        assert_eq!(Shown::Points.show(0.015), "+1.5 points");
        assert_eq!(Shown::Points.show(-0.02), "-2 points");
        assert_eq!(Shown::Kwh.show(412.34), "412.3 kWh");
        assert_eq!(Shown::Chars.show(250.0), "250 characters");
    }

    #[test]
    fn a_count_says_what_it_counts() {
        let mut owners = metric(
            Source::Computed("x".into()),
            Better::Higher,
            [1.0, 2.0, 3.0],
            Shown::Count,
        );
        owners.unit = "distinct named owners (the same name twice counts once)".into();
        assert_eq!(owners.show(3.0), "3 distinct named owners");
        assert_eq!(owners.show(1.0), "1 distinct named owner");
        let mut newer = owners.clone();
        newer.unit = "newer binaries than the one in production (count)".into();
        assert_eq!(newer.show(0.0), "0 newer binaries");
        assert_eq!(newer.show(1.0), "1 newer binary");
    }
}
