//! Native records for the tests that build a graph by hand: NDJSON lines and their ingestion
//! through the same path as `POST /api/v1/records`.

#![allow(dead_code)]

use chrono::{Duration, SecondsFormat, Utc};
use modelgov::model::record::Outcome;
use modelgov::server::ingest::{apply::apply, parse};
use sqlx::PgPool;

pub async fn ingest(pool: &PgPool, lines: &[String]) {
    let body = lines.join("\n");
    let items = parse::ndjson(body.as_bytes(), usize::MAX).unwrap();
    let results = apply(pool, "token:test", &items).await.unwrap();
    let refused: Vec<_> = results
        .iter()
        .filter(|r| r.status == Outcome::Rejected)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
}

pub fn ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn edge(from: &str, to: &str) -> String {
    let (fs, fi) = from.split_once(':').unwrap();
    let (ts, ti) = to.split_once(':').unwrap();
    format!(
        r#"{{"type":"edge","from":{{"source":"{fs}","id":"{fi}"}},"to":{{"source":"{ts}","id":"{ti}"}}}}"#
    )
}

pub fn run(id: &str, status: &str, days_ago: i64) -> String {
    format!(
        r#"{{"type":"asset","source":"ci","id":"{id}","kind":"workflow_run","name":"{id}","status":"{status}","started_at":"{}","ended_at":"{}"}}"#,
        ago(days_ago + 1),
        ago(days_ago)
    )
}

pub fn asset(id: &str, kind: &str, extra: &str) -> String {
    format!(r#"{{"type":"asset","source":"x","id":"{id}","kind":"{kind}","name":"{id}"{extra}}}"#)
}

pub fn measure(asset: &str, name: &str, value: f64, days_ago: i64) -> String {
    let (source, id) = asset.split_once(':').unwrap();
    format!(
        r#"{{"type":"measurement","asset":{{"source":"{source}","id":"{id}"}},"name":"{name}","value":{value},"at":"{}"}}"#,
        ago(days_ago)
    )
}
