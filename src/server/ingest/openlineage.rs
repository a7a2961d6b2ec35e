//! OpenLineage RunEvents (spec 2-0-x) into the graph: the job is the training pipeline (a model
//! source, by the mapping table), the run a workflow run, inputs datasets and outputs model
//! binaries, their kinds resolved through the mapping table (`openlineage`, label) from the
//! dataset type and job type facets. Compiled only with `ssr`.
//!
//! A run's status and times come from all of its events (see [`RunState`]), never from the last
//! one to arrive, so replays and shuffles leave the same graph.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::model::record::{
    AssetKind, AssetRecord, EdgeRecord, Record, RecordResult, Ref, check_key_part, check_name,
};
use crate::server::repo::ingestion::{self, NewEvents};

/// The source system OpenLineage's assets and labels are filed under.
pub const SOURCE: &str = "openlineage";

/// What modelgov reads of a RunEvent; everything else (facets included) is kept as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct RunEvent {
    #[serde(rename = "eventType", default)]
    pub event_type: Option<String>,
    #[serde(rename = "eventTime")]
    pub event_time: String,
    pub producer: String,
    #[serde(rename = "schemaURL")]
    pub schema_url: String,
    pub run: Option<Run>,
    pub job: Option<Job>,
    #[serde(default)]
    pub inputs: Vec<Dataset>,
    #[serde(default)]
    pub outputs: Vec<Dataset>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Run {
    #[serde(rename = "runId")]
    pub run_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub facets: Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Dataset {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub facets: Value,
}

/// The event types of the spec.
pub const EVENT_TYPES: [&str; 6] = ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"];

/// A RunEvent that passed the checks.
#[derive(Debug, Clone)]
pub struct Checked {
    pub event_type: &'static str,
    pub time: DateTime<Utc>,
    pub run_id: String,
    pub job: Job,
    pub inputs: Vec<Dataset>,
    pub outputs: Vec<Dataset>,
}

/// Reads a timestamp as the spec's clients send it: RFC 3339, or without an offset (then UTC).
fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// Checks what the spec requires of a RunEvent and what the graph needs; the error names the
/// field.
pub fn check(event: RunEvent) -> Result<Checked, String> {
    let event_type = match event.event_type.as_deref() {
        None => "OTHER",
        Some(value) => EVENT_TYPES
            .into_iter()
            .find(|t| t.eq_ignore_ascii_case(value))
            .ok_or_else(|| {
                format!(
                    "eventType {value:?} is not one of {}",
                    EVENT_TYPES.join(", ")
                )
            })?,
    };
    let time = parse_time(&event.event_time).ok_or_else(|| {
        format!(
            "eventTime {:?} is not an ISO 8601 time like 2026-11-23T18:19:37.511Z",
            event.event_time
        )
    })?;
    if event.producer.trim().is_empty() {
        return Err("producer must not be empty".into());
    }
    let run = event.run.ok_or_else(|| {
        "this endpoint takes RunEvents: the event has no run (JobEvents and DatasetEvents are not read)"
            .to_string()
    })?;
    let job = event
        .job
        .ok_or_else(|| "a RunEvent needs a job".to_string())?;
    check_key_part("run.runId", &run.run_id)?;
    check_key_part("job.namespace", &job.namespace)?;
    check_name(&job.name).map_err(|e| format!("job.{e}"))?;
    // The graph's keys and the mapping labels are made of these: they must fit as keys too.
    check_key_part("job (namespace and name together)", &job_key(&job).id)?;
    check_key_part("job.facets.jobType.jobType", &job_label(&job))?;
    for (side, datasets) in [("inputs", &event.inputs), ("outputs", &event.outputs)] {
        for (i, d) in datasets.iter().enumerate() {
            check_key_part(&format!("{side}[{i}].namespace"), &d.namespace)?;
            check_name(&d.name).map_err(|e| format!("{side}[{i}].{e}"))?;
            check_key_part(
                &format!("{side}[{i}] (namespace and name together)"),
                &dataset_key(d).id,
            )?;
            check_key_part(
                &format!("{side}[{i}].facets.datasetType.datasetType"),
                &dataset_label(d, side == "outputs"),
            )?;
        }
    }
    Ok(Checked {
        event_type,
        time,
        run_id: run.run_id,
        job,
        inputs: event.inputs,
        outputs: event.outputs,
    })
}

/// A run's state from all of its events: started at its first START (or RUNNING), ended at its
/// last COMPLETE, FAIL or ABORT, whose type gives the status; running in between.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunState {
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub status: Option<&'static str>,
}

impl RunState {
    /// Folds events (type, time) in any order into the same state.
    pub fn of<'a>(events: impl IntoIterator<Item = (&'a str, DateTime<Utc>)>) -> Self {
        let mut state = Self::default();
        let mut last_end: Option<(DateTime<Utc>, &'static str)> = None;
        let mut began = false;
        for (kind, at) in events {
            match kind {
                "START" | "RUNNING" => {
                    began = true;
                    state.started_at = Some(state.started_at.map_or(at, |s| s.min(at)));
                }
                "COMPLETE" | "FAIL" | "ABORT" => {
                    let status = match kind {
                        "COMPLETE" => "succeeded",
                        "FAIL" => "failed",
                        _ => "aborted",
                    };
                    // The latest end wins; at the same instant, the order of the spec's list
                    // (a deterministic tie-break).
                    if last_end.is_none_or(|(t, s)| (at, status) > (t, s)) {
                        last_end = Some((at, status));
                    }
                }
                _ => {}
            }
        }
        if let Some((at, status)) = last_end {
            state.ended_at = Some(at);
            state.status = Some(status);
        } else if began {
            state.status = Some("running");
        }
        // A clock that put the end before the start: the run took no time.
        if let (Some(start), Some(end)) = (state.started_at, state.ended_at)
            && end < start
        {
            state.started_at = Some(end);
        }
        state
    }
}

/// The label a job is mapped by: its job type facet's `jobType`, or `JOB`.
pub fn job_label(job: &Job) -> String {
    job.facets
        .pointer("/jobType/jobType")
        .and_then(Value::as_str)
        .map_or_else(|| "JOB".to_string(), str::to_ascii_uppercase)
}

/// The label a dataset is mapped by: its dataset type facet's `datasetType`, or `INPUT` /
/// `OUTPUT` by its side of the run.
pub fn dataset_label(dataset: &Dataset, output: bool) -> String {
    dataset
        .facets
        .pointer("/datasetType/datasetType")
        .and_then(Value::as_str)
        .map_or_else(
            || if output { "OUTPUT" } else { "INPUT" }.to_string(),
            str::to_ascii_uppercase,
        )
}

pub fn job_key(job: &Job) -> Ref {
    Ref {
        source: SOURCE.into(),
        id: format!("job:{}/{}", job.namespace, job.name),
    }
}

pub fn run_key(run_id: &str) -> Ref {
    Ref {
        source: SOURCE.into(),
        id: format!("run:{run_id}"),
    }
}

pub fn dataset_key(dataset: &Dataset) -> Ref {
    Ref {
        source: SOURCE.into(),
        id: format!("{}/{}", dataset.namespace, dataset.name),
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn labelled(key: &Ref, label: String, name: &str, tags: BTreeMap<String, String>) -> Record {
    Record::Asset(AssetRecord {
        source: key.source.clone(),
        id: key.id.clone(),
        label: Some(label),
        name: name.to_string(),
        tags: Some(tags),
        ..AssetRecord::default()
    })
}

/// The records one event writes: the job, the run with its state from all its events, the
/// datasets, and the edges the kinds allow (`kinds` maps labels to kinds; a label without a
/// mapping sends its asset to quarantine and gets no edge until it is mapped).
pub fn records(
    event: &Checked,
    state: &RunState,
    kinds: &HashMap<String, AssetKind>,
) -> Vec<Record> {
    let mut out = Vec::new();
    let job = job_key(&event.job);
    let job_label = job_label(&event.job);
    out.push(labelled(
        &job,
        job_label.clone(),
        &event.job.name,
        BTreeMap::from([("namespace".to_string(), event.job.namespace.clone())]),
    ));
    let run = run_key(&event.run_id);
    let short: String = event.run_id.chars().take(8).collect();
    out.push(Record::Asset(AssetRecord {
        source: run.source.clone(),
        id: run.id.clone(),
        kind: Some(AssetKind::WorkflowRun),
        name: format!("{} run {short}", event.job.name),
        tags: Some(BTreeMap::from([(
            "job".to_string(),
            format!("{}/{}", event.job.namespace, event.job.name),
        )])),
        status: state.status.map(str::to_string),
        started_at: state.started_at.map(rfc3339),
        ended_at: state.ended_at.map(rfc3339),
        ..AssetRecord::default()
    }));
    if kinds.get(&job_label) == Some(&AssetKind::ModelSource) {
        out.push(Record::Edge(EdgeRecord {
            from: job,
            to: run.clone(),
        }));
    }
    for (output, datasets) in [(false, &event.inputs), (true, &event.outputs)] {
        for dataset in datasets {
            let key = dataset_key(dataset);
            let label = dataset_label(dataset, output);
            let allowed = matches!(
                (output, kinds.get(&label)),
                (false, Some(AssetKind::Dataset)) | (true, Some(AssetKind::ModelBinary))
            );
            out.push(labelled(
                &key,
                label,
                &dataset.name,
                BTreeMap::from([("namespace".to_string(), dataset.namespace.clone())]),
            ));
            if allowed {
                let (from, to) = if output {
                    (run.clone(), key)
                } else {
                    (key, run.clone())
                };
                out.push(Record::Edge(EdgeRecord { from, to }));
            }
        }
    }
    out
}

/// What applying one event did: the run, whether the event was new, and each record's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventAnswer {
    pub run: Ref,
    /// False when this exact event (run, type, time) had been received before.
    pub new_event: bool,
    pub results: Vec<RecordResult>,
}

/// Keeps the event, folds all of its run's events into the run's state, and writes the records.
pub async fn apply_event(
    tx: &mut sqlx::PgConnection,
    actor: &str,
    event: &Checked,
    raw: &serde_json::Value,
) -> Result<EventAnswer, sqlx::Error> {
    let mut answers = apply_events(tx, actor, &[(event, raw)]).await?;
    answers.pop().ok_or(sqlx::Error::RowNotFound)
}

/// Applies several events at once, set-based: their runs locked (in the order given: callers
/// sort by run so that two batches never wait on each other), the events kept, each run's state
/// folded from all of its events, and every event's records written in one pass. Answers one per
/// event, in order; a record the graph refuses is answered in its own event's results (callers
/// that keep events whole check for that and apply them one by one).
pub async fn apply_events(
    tx: &mut sqlx::PgConnection,
    actor: &str,
    events: &[(&Checked, &serde_json::Value)],
) -> Result<Vec<EventAnswer>, sqlx::Error> {
    use chrono::SubsecRound;
    let mut runs: Vec<&str> = events.iter().map(|(e, _)| e.run_id.as_str()).collect();
    runs.sort_unstable();
    runs.dedup();
    // One run's events one at a time, so that each sees the ones before it.
    ingestion::lock_runs(&mut *tx, &runs).await?;
    let column = |f: fn(&Checked) -> String| events.iter().map(|(e, _)| f(e)).collect::<Vec<_>>();
    let kept = ingestion::keep_events(
        &mut *tx,
        actor,
        &NewEvents {
            run_ids: &column(|e| e.run_id.clone()),
            event_types: &column(|e| e.event_type.to_string()),
            times: &events.iter().map(|(e, _)| e.time).collect::<Vec<_>>(),
            namespaces: &column(|e| e.job.namespace.clone()),
            names: &column(|e| e.job.name.clone()),
            events: &events
                .iter()
                .map(|(_, raw)| (*raw).clone())
                .collect::<Vec<_>>(),
        },
    )
    .await?;
    let mut new_events: std::collections::HashSet<(String, String, DateTime<Utc>)> =
        kept.into_iter().collect();
    let mut seen: HashMap<String, Vec<(String, DateTime<Utc>)>> = HashMap::new();
    for (run, event_type, time) in ingestion::run_events(&mut *tx, &runs).await? {
        seen.entry(run).or_default().push((event_type, time));
    }
    let states: HashMap<&str, RunState> = runs
        .iter()
        .map(|run| {
            let events = seen.get(*run).map(Vec::as_slice).unwrap_or_default();
            (
                *run,
                RunState::of(events.iter().map(|(t, at)| (t.as_str(), *at))),
            )
        })
        .collect();

    let labels: Vec<String> = events
        .iter()
        .flat_map(|(e, _)| {
            std::iter::once(job_label(&e.job))
                .chain(e.inputs.iter().map(|d| dataset_label(d, false)))
                .chain(e.outputs.iter().map(|d| dataset_label(d, true)))
        })
        .collect();
    let kinds = ingestion::kinds_of(&mut *tx, SOURCE, &labels).await?;
    let per_event: Vec<Vec<Record>> = events
        .iter()
        .map(|(e, _)| records(e, &states[e.run_id.as_str()], &kinds))
        .collect();
    let sizes: Vec<usize> = per_event.iter().map(Vec::len).collect();
    let items = super::parse::Item::numbered(per_event.into_iter().flatten().collect());
    let mut results = super::apply::apply_in(tx, actor, &items).await?.into_iter();
    Ok(events
        .iter()
        .zip(sizes)
        .map(|((e, _), size)| {
            let key = (
                e.run_id.clone(),
                e.event_type.to_string(),
                e.time.trunc_subsecs(6),
            );
            EventAnswer {
                run: run_key(&e.run_id),
                // The first of two equal events in one batch is the new one.
                new_event: new_events.remove(&key),
                results: results
                    .by_ref()
                    .take(size)
                    .enumerate()
                    .map(|(i, mut r)| {
                        // Numbered within its own event, as when it is applied alone.
                        if r.index.is_some() {
                            r.index = u32::try_from(i).ok();
                        }
                        r
                    })
                    .collect(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> Result<Checked, String> {
        check(serde_json::from_value(json).map_err(|e| e.to_string())?)
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "eventType": "START",
            "eventTime": "2026-11-23T18:19:37.511046+00:00",
            "producer": "https://example.com/producer",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": "01a209a2-8ca0-7f3c-b7b9-6440bfe3a1e1", "facets": {"x": {"y": 1}}},
            "job": {"namespace": "ns", "name": "train", "facets": {}},
            "inputs": [{"namespace": "s3://b", "name": "raw", "facets": {"datasetType": {"datasetType": "FILE"}}}],
            "outputs": [{"namespace": "mlflow://r", "name": "m/1", "facets": {}}]
        })
    }

    #[test]
    fn bad_events_name_the_field() {
        let with = |path: &str, value: serde_json::Value| {
            let mut e = base();
            *e.pointer_mut(path).unwrap() = value;
            event(e).unwrap_err()
        };
        assert!(with("/eventType", "FINISHED".into()).contains("eventType"));
        assert!(with("/eventTime", "yesterday".into()).contains("eventTime"));
        assert!(with("/run/runId", "".into()).contains("run.runId"));
        assert!(with("/job/name", " ".into()).contains("job.name"));
        assert!(with("/outputs/0/namespace", "".into()).contains("outputs[0].namespace"));
        let mut e = base();
        e.as_object_mut().unwrap().remove("run");
        assert!(event(e).unwrap_err().contains("RunEvents"));
        // Times without an offset are UTC; lower-case types are read.
        let mut e = base();
        e["eventTime"] = "2026-11-23T18:19:06.708738".into();
        e["eventType"] = "complete".into();
        let ok = event(e).unwrap();
        assert_eq!(ok.event_type, "COMPLETE");
        assert_eq!(rfc3339(ok.time), "2026-11-23T18:19:06.708738Z");
    }

    #[test]
    fn run_state_is_the_same_in_any_order() {
        let t = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let events = [
            ("START", t(0)),
            ("RUNNING", t(5)),
            ("COMPLETE", t(10)),
            ("OTHER", t(11)),
        ];
        let expected = RunState {
            started_at: Some(t(0)),
            ended_at: Some(t(10)),
            status: Some("succeeded"),
        };
        let mut order = events.to_vec();
        for _ in 0..events.len() {
            order.rotate_left(1);
            assert_eq!(RunState::of(order.iter().copied()), expected);
            let mut reversed = order.clone();
            reversed.reverse();
            assert_eq!(RunState::of(reversed), expected);
        }
        // Twice is once.
        assert_eq!(
            RunState::of(events.iter().chain(&events).copied()),
            expected
        );
        assert_eq!(RunState::of([("START", t(0))]).status, Some("running"));
        assert_eq!(RunState::of([("OTHER", t(0))]), RunState::default());
        // A later failure wins over an earlier completion.
        assert_eq!(
            RunState::of([("COMPLETE", t(10)), ("FAIL", t(20)), ("START", t(0))]).status,
            Some("failed")
        );
    }

    #[test]
    fn kinds_decide_the_edges() {
        let checked = event(base()).unwrap();
        let kinds = HashMap::from([
            ("JOB".to_string(), AssetKind::ModelSource),
            ("FILE".to_string(), AssetKind::Dataset),
            ("OUTPUT".to_string(), AssetKind::ModelBinary),
        ]);
        let records = records(&checked, &RunState::default(), &kinds);
        let edges: Vec<(String, String)> = records
            .iter()
            .filter_map(|r| match r {
                Record::Edge(e) => Some((e.from.id.clone(), e.to.id.clone())),
                _ => None,
            })
            .collect();
        let run = "run:01a209a2-8ca0-7f3c-b7b9-6440bfe3a1e1".to_string();
        assert_eq!(
            edges,
            [
                ("job:ns/train".to_string(), run.clone()),
                ("s3://b/raw".to_string(), run.clone()),
                (run, "mlflow://r/m/1".to_string()),
            ]
        );
        // Without a mapping for the output's label: its asset waits in quarantine, no edge.
        let fewer = records_without(&checked, "OUTPUT");
        assert_eq!(fewer, 2);
    }

    fn records_without(checked: &Checked, label: &str) -> usize {
        let mut kinds = HashMap::from([
            ("JOB".to_string(), AssetKind::ModelSource),
            ("FILE".to_string(), AssetKind::Dataset),
            ("OUTPUT".to_string(), AssetKind::ModelBinary),
        ]);
        kinds.remove(label);
        records(checked, &RunState::default(), &kinds)
            .iter()
            .filter(|r| matches!(r, Record::Edge(_)))
            .count()
    }
}
