//! The demo generator: a deterministic company of any size, loaded through the same code path as
//! the API. Orgs and teams several levels deep; full lineage chains with several binaries per model
//! source over months; deployments in every status; datasets shared between models; labels from
//! several tools (some not mapped yet); measurements; and the gaps real companies have (models
//! without owners or descriptions, missing evaluations, stale retraining, production serving an old
//! binary, runs and features whose lineage is incomplete). Compiled only with `ssr`.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sqlx::PgPool;

use super::ingest::apply::apply;
use super::ingest::parse::{Item, Place};
use super::metrics;
use crate::error::AppError;
use crate::model::metrics::Catalog;
use crate::model::record::{
    AssetKind, AssetRecord, EdgeRecord, MeasurementRecord, OrgUnitRecord, Outcome, Record, Ref,
};

/// How big a company to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    pub model_sources: u32,
    pub seed: u64,
    /// Times are laid out over the months before this moment.
    pub now: DateTime<Utc>,
    /// Records per transaction.
    pub batch: usize,
}

/// What a load did.
#[derive(Debug, Default, Clone)]
pub struct DemoReport {
    pub records: u64,
    pub by_outcome: BTreeMap<String, u64>,
    pub seconds: f64,
}

const ORGS: &[&str] = &[
    "Ads",
    "Feed",
    "Integrity",
    "Commerce",
    "Messaging",
    "Search",
    "Video",
    "Payments",
    "Maps",
    "Health",
    "Creators",
    "Infrastructure",
];
const GROUPS: &[&str] = &[
    "Ranking",
    "Understanding",
    "Trust & Safety",
    "Quality",
    "Growth",
    "Platform",
    "Signals",
    "Personalization",
    "Forecasting",
    "Experience",
];
/// Above this many teams an org gets divisions between it and its groups.
const TEAMS_PER_DIVISION: u64 = 40;
const TEAMS: &[&str] = &[
    "Retrieval",
    "Calibration",
    "Embeddings",
    "Classifiers",
    "Bidding",
    "Notifications",
    "Spam",
    "Hate Speech",
    "Misinformation",
    "Pricing",
    "Fraud",
    "Recommendations",
    "Query Understanding",
    "Vision",
    "Speech",
    "Safety Eval",
    "Latency",
    "Churn",
];
const MODEL_WORDS: &[&str] = &[
    "ranker",
    "classifier",
    "predictor",
    "embedder",
    "detector",
    "forecaster",
    "re-ranker",
    "scorer",
    "matcher",
    "tagger",
];
const SUBJECTS: &[&str] = &[
    "click-through",
    "conversion",
    "spam",
    "toxicity",
    "churn",
    "fraud",
    "relevance",
    "watch-time",
    "intent",
    "similar-items",
    "delivery-time",
    "image-quality",
];

/// splitmix64: small, fast and the same everywhere, so a seed always gives the same company.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }
}

fn r(source: &str, id: impl Into<String>) -> Ref {
    Ref {
        source: source.into(),
        id: id.into(),
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn asset(
    source: &str,
    id: String,
    kind: Option<AssetKind>,
    label: Option<&str>,
    name: String,
) -> AssetRecord {
    AssetRecord {
        source: source.into(),
        id,
        kind,
        label: label.map(str::to_string),
        name,
        ..AssetRecord::default()
    }
}

fn edge(from: &Ref, to: &Ref) -> Record {
    Record::Edge(EdgeRecord {
        from: from.clone(),
        to: to.clone(),
    })
}

/// An org unit of the generated tree, and the shared pools its teams draw from.
struct Team {
    key: Ref,
    org: usize,
    datasets: Vec<Ref>,
}

/// Writes records in batches through the ingestion path and counts the outcomes. With history,
/// records are kept with the time they came to be (`clock`) and written later in time order.
struct Loader<'a> {
    pool: &'a PgPool,
    batch: usize,
    pending: Vec<Record>,
    report: DemoReport,
    clock: DateTime<Utc>,
    timed: Option<Vec<(DateTime<Utc>, Record)>>,
}

impl Loader<'_> {
    async fn push(&mut self, record: Record) -> Result<(), AppError> {
        if let Some(timed) = self.timed.as_mut() {
            timed.push((self.clock, record));
            return Ok(());
        }
        self.pending.push(record);
        if self.pending.len() >= self.batch {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), AppError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let items: Vec<Item> = self
            .pending
            .drain(..)
            .enumerate()
            .map(|(i, record)| Item {
                place: Place::Index(u32::try_from(i).unwrap_or(u32::MAX)),
                record: Ok(record),
            })
            .collect();
        let results = apply(self.pool, "demo generator", &items).await?;
        for result in results {
            if result.status == Outcome::Rejected {
                tracing::error!(error = ?result.error, "the demo generator wrote a record the graph refused");
            }
            *self
                .report
                .by_outcome
                .entry(format!("{:?}", result.status).to_lowercase())
                .or_default() += 1;
            self.report.records += 1;
        }
        Ok(())
    }
}

/// Generates the company for `size` and loads it; loading the same size and seed again changes
/// nothing.
pub async fn load(pool: &PgPool, size: DemoSize) -> Result<DemoReport, AppError> {
    generate(pool, size, None).await
}

/// Loads the company as [`load`] does, but as it grew: the records in the order they came to be
/// over the `days` before `size.now`, with the metrics judged against `catalog` at the end of
/// every week of it, so that trends have a history to show from the first start. Only into a
/// database without snapshots (history cannot be written before existing results); with some,
/// the records are loaded as [`load`] does. Ends with a recompute now.
pub async fn load_with_history(
    pool: &PgPool,
    size: DemoSize,
    catalog: &Catalog,
    days: u32,
) -> Result<DemoReport, AppError> {
    let judged =
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM metric_snapshots) AS "some!""#)
            .fetch_one(pool)
            .await?;
    if judged || days == 0 {
        return generate(pool, size, None).await;
    }
    generate(pool, size, Some((catalog, days))).await
}

async fn generate(
    pool: &PgPool,
    size: DemoSize,
    history: Option<(&Catalog, u32)>,
) -> Result<DemoReport, AppError> {
    let started = Instant::now();
    let mut rng = Rng(size.seed);
    let now = size.now;
    let since = now - Duration::days(history.map_or(0, |(_, days)| i64::from(days)));
    let mut out = Loader {
        pool,
        batch: size.batch.max(1),
        pending: Vec::new(),
        report: DemoReport::default(),
        // Org units, features and datasets are there before anything else (runs go back
        // about two and a half years).
        clock: now - Duration::days(3650),
        timed: history.map(|_| Vec::new()),
    };
    let models = u64::from(size.model_sources.max(1));

    // The org tree: company -> orgs -> groups -> teams (some teams hang directly below an org).
    let company = r("hr", "acme");
    out.push(Record::OrgUnit(OrgUnitRecord {
        source: "hr".into(),
        id: "acme".into(),
        name: "Acme".into(),
        parent: None,
        description: Some("The whole company".into()),
    }))
    .await?;
    let team_count = models.div_ceil(6).max(2);
    let org_count = (team_count / 4).clamp(3, ORGS.len() as u64);
    let mut teams: Vec<Team> = Vec::new();
    let mut group_serial = 0u64;
    for org in 0..org_count {
        let org_index = usize::try_from(org).unwrap_or(0);
        let org_key = r("hr", format!("org-{org}"));
        out.push(Record::OrgUnit(OrgUnitRecord {
            source: "hr".into(),
            id: org_key.id.clone(),
            name: ORGS[org_index].into(),
            parent: Some(company.clone()),
            description: None,
        }))
        .await?;
        let org_teams = team_count / org_count + u64::from(org < team_count % org_count);
        let mut made = 0;
        while made < org_teams {
            // Large orgs have divisions; a division holds about TEAMS_PER_DIVISION teams.
            let division = made / TEAMS_PER_DIVISION;
            let above = if org_teams > TEAMS_PER_DIVISION {
                let key = r("hr", format!("division-{org}-{division}"));
                if made % TEAMS_PER_DIVISION == 0 {
                    out.push(Record::OrgUnit(OrgUnitRecord {
                        source: "hr".into(),
                        id: key.id.clone(),
                        name: format!("{} division {}", ORGS[org_index], division + 1),
                        parent: Some(org_key.clone()),
                        description: None,
                    }))
                    .await?;
                }
                key
            } else {
                org_key.clone()
            };
            // A group of 2-6 teams, or a team right below the org (or division).
            let parent = if rng.chance(80) {
                group_serial += 1;
                let group_key = r("hr", format!("group-{group_serial}"));
                let name = if group_serial <= GROUPS.len() as u64 {
                    GROUPS[usize::try_from(group_serial - 1).unwrap_or(0)].to_string()
                } else {
                    format!("{} {}", rng.pick(GROUPS), group_serial)
                };
                out.push(Record::OrgUnit(OrgUnitRecord {
                    source: "hr".into(),
                    id: group_key.id.clone(),
                    name,
                    parent: Some(above.clone()),
                    description: None,
                }))
                .await?;
                group_key
            } else {
                above.clone()
            };
            let in_group = if parent == above { 1 } else { 2 + rng.below(5) };
            let room = TEAMS_PER_DIVISION - made % TEAMS_PER_DIVISION;
            for _ in 0..in_group.min(org_teams - made).min(room) {
                let serial = teams.len();
                let key = r("hr", format!("team-{serial}"));
                let name = if serial < TEAMS.len() {
                    TEAMS[serial].to_string()
                } else {
                    format!("{} {}", rng.pick(TEAMS), serial)
                };
                out.push(Record::OrgUnit(OrgUnitRecord {
                    source: "hr".into(),
                    id: key.id.clone(),
                    name,
                    parent: Some(parent.clone()),
                    description: None,
                }))
                .await?;
                teams.push(Team {
                    key,
                    org: org_index,
                    datasets: Vec::new(),
                });
                made += 1;
            }
        }
    }

    // Features: each org has feature sources and logical features its teams' datasets draw on.
    let mut org_features: Vec<Vec<Ref>> = vec![Vec::new(); usize::try_from(org_count).unwrap_or(0)];
    let features_per_org = (models / org_count / 2).max(4);
    for (org, features) in org_features.iter_mut().enumerate() {
        let mut feature_source = None;
        for f in 0..features_per_org {
            if f % 3 == 0 || feature_source.is_none() {
                let (source, label, kind, what) = match rng.below(3) {
                    0 => ("feast", Some("Data Source"), None, "table"),
                    1 => ("hive", None, Some(AssetKind::FeatureSource), "log"),
                    _ => ("kafka", None, Some(AssetKind::FeatureSource), "stream"),
                };
                let key = r(source, format!("fs-{org}-{f}"));
                out.push(Record::Asset(asset(
                    source,
                    key.id.clone(),
                    kind,
                    label,
                    format!("{} {what} {org}.{f}", ORGS[org % ORGS.len()].to_lowercase()),
                )))
                .await?;
                feature_source = Some(key);
            }
            let key = r("feast", format!("lf-{org}-{f}"));
            out.push(Record::Asset(asset(
                "feast",
                key.id.clone(),
                None,
                Some("Feature View"),
                format!(
                    "{} {}",
                    rng.pick(SUBJECTS),
                    rng.pick(&["rate", "count 7d", "embedding", "ratio 28d", "last seen"])
                ),
            )))
            .await?;
            // Some logical features do not say where their data comes from.
            if let Some(source) = feature_source.as_ref().filter(|_| !rng.chance(10)) {
                out.push(edge(source, &key)).await?;
            }
            features.push(key);
        }
    }

    // Datasets: a few per team, each materializing several of its org's logical features.
    for (t, team) in teams.iter_mut().enumerate() {
        for d in 0..(2 + rng.below(2)) {
            let key = r("feast", format!("ds-{t}-{d}"));
            let mut record = asset(
                "feast",
                key.id.clone(),
                None,
                Some("Feature Service"),
                format!("training set {t}.{d}"),
            );
            record.owner = Some(team.key.clone());
            out.push(Record::Asset(record)).await?;
            let pool = &org_features[team.org];
            for _ in 0..(3 + rng.below(4)) {
                out.push(edge(rng.pick(pool), &key)).await?;
            }
            team.datasets.push(key);
        }
    }

    // Model sources with their runs, binaries, deployments and measurements.
    for m in 0..models {
        let team = &teams[usize::try_from(m % teams.len() as u64).unwrap_or(0)];
        let subject = *rng.pick(SUBJECTS);
        let word = *rng.pick(MODEL_WORDS);
        let via_mlflow = rng.chance(40);
        let source_key = if via_mlflow {
            r("mlflow", format!("{subject}-{word}-{m}"))
        } else {
            r("git", format!("models/{subject}-{word}-{m}"))
        };
        let mut record = if via_mlflow {
            asset(
                "mlflow",
                source_key.id.clone(),
                None,
                Some("Registered Model"),
                format!("{subject} {word} {m}"),
            )
        } else {
            asset(
                "git",
                source_key.id.clone(),
                Some(AssetKind::ModelSource),
                None,
                format!("{subject} {word} {m}"),
            )
        };
        // About one model in twelve has no owning unit.
        if m % 17 != 5 && !rng.chance(3) {
            record.owner = Some(team.key.clone());
        }
        if !rng.chance(12) {
            let people = 1 + rng.below(3);
            record.owners = Some(
                (0..people)
                    .map(|p| format!("{}.{}@acme.example", subject.replace('-', ""), m * 3 + p))
                    .collect(),
            );
        }
        if !rng.chance(15) {
            record.description = Some(format!(
                "Predicts {subject} for {} surfaces; retrained from {} datasets.",
                ORGS[team.org % ORGS.len()],
                team.datasets.len()
            ));
        }
        let tier = 1 + rng.below(3);
        record.tags = Some(BTreeMap::from([
            ("tier".to_string(), tier.to_string()),
            ("subject".to_string(), subject.to_string()),
        ]));

        // Runs: every 2-6 weeks, the newest 1-300 days ago (stale retraining happens).
        let runs = 4 + rng.below(10);
        let mut at = now - Duration::days(i64::try_from(1 + rng.below(300)).unwrap_or(1));
        let mut schedule = Vec::new();
        for _ in 0..runs {
            schedule.push(at);
            at -= Duration::days(i64::try_from(14 + rng.below(28)).unwrap_or(14));
        }
        schedule.reverse();
        // The model source appears with its first run.
        out.clock = schedule[0];
        out.push(Record::Asset(record)).await?;
        let mut binaries: Vec<Ref> = Vec::new();
        let mut binary_times: Vec<DateTime<Utc>> = Vec::new();
        for (k, started) in schedule.iter().enumerate() {
            let failed = rng.chance(8);
            let run_key = if rng.chance(50) {
                r("airflow", format!("run-{m}-{k}"))
            } else {
                r("kubeflow", format!("run-{m}-{k}"))
            };
            let mut run = if run_key.source == "airflow" {
                asset(
                    "airflow",
                    run_key.id.clone(),
                    None,
                    Some("DAG Run"),
                    format!("train {subject} {word} #{k}"),
                )
            } else {
                asset(
                    "kubeflow",
                    run_key.id.clone(),
                    Some(AssetKind::WorkflowRun),
                    None,
                    format!("train {subject} {word} #{k}"),
                )
            };
            run.status = Some(if failed { "failed" } else { "succeeded" }.into());
            run.started_at = Some(time(*started));
            let ended =
                *started + Duration::minutes(i64::try_from(20 + rng.below(400)).unwrap_or(20));
            run.ended_at = Some(time(ended));
            out.clock = ended;
            out.push(Record::Asset(run)).await?;
            out.push(edge(&source_key, &run_key)).await?;
            // Now and then a run reports no training data: a gap in the lineage.
            if !rng.chance(8) {
                for _ in 0..=rng.below(2) {
                    out.push(edge(rng.pick(&team.datasets), &run_key)).await?;
                }
            }
            if failed {
                continue;
            }
            let binary_key = r(
                "mlflow",
                format!("{}/{}", source_key.id, binaries.len() + 1),
            );
            let binary = if rng.chance(70) {
                asset(
                    "mlflow",
                    binary_key.id.clone(),
                    None,
                    Some("Model Version"),
                    format!("{subject} {word} {m} v{}", binaries.len() + 1),
                )
            } else {
                asset(
                    "mlflow",
                    binary_key.id.clone(),
                    Some(AssetKind::ModelBinary),
                    None,
                    format!("{subject} {word} {m} v{}", binaries.len() + 1),
                )
            };
            out.push(Record::Asset(binary)).await?;
            out.push(edge(&run_key, &binary_key)).await?;
            if rng.chance(50) {
                out.push(Record::Measurement(MeasurementRecord {
                    asset: run_key.clone(),
                    name: "energy_kwh".into(),
                    value: (50 + rng.below(5000)) as f64 / 10.0,
                    at: time(*started),
                }))
                .await?;
            }
            binaries.push(binary_key);
            binary_times.push(ended);
        }
        let (Some(newest), Some(&newest_at)) = (binaries.last().cloned(), binary_times.last())
        else {
            continue;
        };

        // Deployments: production usually serves the newest binary, sometimes an older one.
        let in_production = rng.chance(85);
        let mut places: Vec<(&str, &str)> = Vec::new();
        if in_production {
            places.push(("prod-us", "production"));
            if rng.chance(50) {
                places.push(("prod-eu", "production"));
            }
        }
        if rng.chance(60) || m % 40 == 3 {
            places.push(("staging", "staging"));
        }
        if rng.chance(30) {
            places.push((
                "dev",
                if rng.chance(20) {
                    "retired"
                } else {
                    "development"
                },
            ));
        }
        let stale = rng.chance(20);
        let (served_in_production, served_at) = if stale && binaries.len() > 1 {
            (
                binaries[binaries.len() - 2].clone(),
                binary_times[binaries.len() - 2],
            )
        } else {
            (newest.clone(), newest_at)
        };
        for (place, status) in places {
            // One model in forty also runs on a tool whose label has no mapping yet.
            let (source, kind, label) = if m % 40 == 3 && place == "staging" {
                ("vertex", None, Some("Endpoint"))
            } else if rng.chance(25) {
                ("sagemaker", None, Some("Endpoint"))
            } else {
                ("k8s", Some(AssetKind::Deployment), None)
            };
            let key = r(
                source,
                format!("{}-{place}", source_key.id.replace('/', "-")),
            );
            let mut deployment = asset(
                source,
                key.id.clone(),
                kind,
                label,
                format!("{subject} {word} {m} ({place})"),
            );
            deployment.status = Some(status.into());
            // A deployment appears with the binary it serves.
            out.clock = if status == "production" {
                served_at
            } else {
                newest_at
            };
            out.push(Record::Asset(deployment)).await?;
            if source == "vertex" {
                // No mapping for this tool's label yet: the deployment waits in quarantine.
                continue;
            }
            let binary = if status == "production" {
                &served_in_production
            } else {
                &newest
            };
            out.push(edge(binary, &key)).await?;
        }

        // Measurements of the newest binary, with realistic gaps.
        let reported: [(&str, u64, f64); 6] = [
            ("fairness_gap", 60, rng.below(120) as f64 / 1000.0),
            ("serving_latency_p99_ms", 70, (5 + rng.below(400)) as f64),
            ("robustness_score", 40, (40 + rng.below(60)) as f64 / 100.0),
            ("quality_delta", 50, (rng.below(100) as f64 - 40.0) / 1000.0),
            (
                "security_scan_passed",
                60,
                f64::from(u8::from(rng.chance(80))),
            ),
            ("safety_evaluated", 55, 1.0),
        ];
        for (name, percent, value) in reported {
            if rng.chance(percent) {
                let at = now - Duration::days(i64::try_from(rng.below(30)).unwrap_or(0));
                // Reported once the binary is there.
                out.clock = at.max(newest_at);
                out.push(Record::Measurement(MeasurementRecord {
                    asset: newest.clone(),
                    name: name.into(),
                    value,
                    at: time(at),
                }))
                .await?;
            }
        }
    }
    if let (Some((catalog, _)), Some(mut timed)) = (history, out.timed.take()) {
        // Week by week: what had come to be by the end of each, then its results as of then.
        timed.sort_by_key(|(at, _)| *at);
        let mut records = timed.into_iter().peekable();
        let mut week = since + Duration::days(7);
        while week < now {
            while let Some((_, record)) = records.next_if(|(at, _)| *at <= week) {
                out.push(record).await?;
            }
            out.flush().await?;
            metrics::recompute_at(pool, catalog, week).await?;
            week += Duration::days(7);
        }
        for (_, record) in records {
            out.push(record).await?;
        }
        out.flush().await?;
        metrics::recompute(pool, catalog).await?;
    }
    out.flush().await?;
    out.report.seconds = started.elapsed().as_secs_f64();
    Ok(out.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        let first: Vec<u64> = (0..5).map(|_| a.next()).collect();
        let second: Vec<u64> = (0..5).map(|_| b.next()).collect();
        assert_eq!(first, second);
        assert_ne!(Rng(8).next(), first[0]);
        let mut rng = Rng(1);
        assert!((0..1000).all(|_| rng.below(10) < 10));
    }
}
