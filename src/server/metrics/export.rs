//! Exports of a snapshot: every model's levels and every unit's rollups, as NDJSON (the wire
//! contract of DESIGN.md section 8) or CSV. Streamed from the database in chunks, so a company's
//! millions of rows never sit in memory. Compiled only with `ssr`.

use std::fmt::Write as _;

use axum::body::{Body, Bytes};
use futures::TryStreamExt;
use sqlx::PgPool;
use tokio::sync::mpsc;

use super::reads::{Snapshot, aged, level};
use crate::model::csv::field as csv_field;
use crate::model::metrics::{Catalog, metric_evidence, number};
use crate::model::record::Ref;

/// Bytes sent to the client at a time.
const CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Csv,
}

/// A response body fed by `produce`, which writes chunks into the channel it is given.
fn streamed<F, Fut>(produce: F) -> Body
where
    F: FnOnce(mpsc::Sender<Result<Bytes, std::io::Error>>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(8);
    tokio::spawn(produce(sender));
    Body::from_stream(futures::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) },
    ))
}

/// Sends what `buffer` holds once it is large enough (or always, with `force`); false when the
/// client has gone away.
async fn flush(
    sender: &mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: &mut String,
    force: bool,
) -> bool {
    if buffer.is_empty() || (!force && buffer.len() < CHUNK) {
        return true;
    }
    let chunk = Bytes::from(std::mem::take(buffer));
    sender.send(Ok(chunk)).await.is_ok()
}

/// Writes every row with `write` and sends the text in chunks; a database error ends the body with
/// an error (the client sees a broken transfer, never a silently short file).
async fn pump<R>(
    sender: &mpsc::Sender<Result<Bytes, std::io::Error>>,
    mut rows: futures::stream::BoxStream<'_, Result<R, sqlx::Error>>,
    buffer: &mut String,
    export: &str,
    mut write: impl FnMut(&mut String, R),
) {
    loop {
        match rows.try_next().await {
            Ok(Some(row)) => write(buffer, row),
            Ok(None) => break,
            Err(error) => {
                tracing::error!(%error, export, "an export failed");
                let _ = sender
                    .send(Err(std::io::Error::other("the export failed")))
                    .await;
                return;
            }
        }
        if !flush(sender, buffer, false).await {
            return;
        }
    }
    flush(sender, buffer, true).await;
}

fn json_line(buffer: &mut String, value: &serde_json::Value) {
    buffer.push_str(&value.to_string());
    buffer.push('\n');
}

/// One row per model source and scope.
pub fn levels(pool: PgPool, snapshot: Snapshot, format: Format) -> Body {
    streamed(move |sender| async move {
        let catalog: &Catalog = &snapshot.catalog;
        let scopes = catalog.scopes();
        let mut buffer = String::new();
        if format == Format::Csv {
            buffer.push_str("model_source,model_id,scope,level,value\n");
        }
        let rows = sqlx::query!(
            r#"
            SELECT a.source, a.external_id, r.judged_on,
                   r.metric_values AS "metric_values: Vec<Option<f64>>",
                   r.metric_levels AS "metric_levels: Vec<Option<i16>>",
                   r.domain_levels AS "domain_levels: Vec<Option<i16>>", r.overall_level,
                   asset_refs(r.judged_binaries) AS "binaries!: sqlx::types::Json<Vec<Ref>>",
                   date_part('epoch', s.computed_at - r.judged_at) / 86400 AS "days_since_judged!"
            FROM model_results r
            JOIN assets a ON a.id = r.model_id
            JOIN metric_snapshots s ON s.id = $1
            WHERE r.snapshot_id <= $1 AND r.valid_to > $1
            ORDER BY r.model_id
            "#,
            snapshot.meta.id,
        )
        .fetch(&pool);
        pump(&sender, rows, &mut buffer, "levels", |buffer, row| {
            let model = Ref {
                source: row.source,
                id: row.external_id,
            };
            let binaries: Vec<Ref> = row.binaries.0;
            let metric_levels: Vec<Option<u8>> = row
                .metric_levels
                .iter()
                .map(|l| level(*l).map(u8::from))
                .collect();
            let domain_levels: Vec<Option<u8>> = row
                .domain_levels
                .iter()
                .map(|l| level(*l).map(u8::from))
                .collect();
            let values = aged(catalog, &row.metric_values, row.days_since_judged);
            for (i, metric) in catalog.metrics.iter().enumerate() {
                let value = values.get(i).copied().flatten();
                let level = metric_levels.get(i).copied().flatten();
                match format {
                    Format::Ndjson => json_line(
                        buffer,
                        &serde_json::json!({
                            "model": model,
                            "scope": scopes[i],
                            "level": level,
                            "value": value,
                            "evidence": metric_evidence(metric, value, &row.judged_on, &binaries, &catalog.version),
                        }),
                    ),
                    Format::Csv => csv_row(buffer, &model, &scopes[i], level, value),
                }
            }
            for (i, domain) in catalog.domains.iter().enumerate() {
                let scope = &scopes[catalog.metrics.len() + i];
                let level = domain_levels.get(i).copied().flatten();
                match format {
                    Format::Ndjson => {
                        let inputs: serde_json::Map<String, serde_json::Value> = catalog
                            .metrics
                            .iter()
                            .zip(&metric_levels)
                            .filter(|(m, _)| m.domain == domain.id)
                            .map(|(m, l)| (m.id.clone(), serde_json::json!(l)))
                            .collect();
                        json_line(
                            buffer,
                            &serde_json::json!({
                                "model": model, "scope": scope, "level": level, "value": null,
                                "evidence": {"rule": domain.rule, "metrics": inputs, "catalog_version": catalog.version},
                            }),
                        );
                    }
                    Format::Csv => csv_row(buffer, &model, scope, level, None),
                }
            }
            let overall = level(row.overall_level).map(u8::from);
            match format {
                Format::Ndjson => {
                    let inputs: serde_json::Map<String, serde_json::Value> = catalog
                        .domains
                        .iter()
                        .zip(&domain_levels)
                        .map(|(d, l)| (d.id.clone(), serde_json::json!(l)))
                        .collect();
                    json_line(
                        buffer,
                        &serde_json::json!({
                            "model": model, "scope": "overall", "level": overall, "value": null,
                            "evidence": {"rule": catalog.overall_rule, "domains": inputs, "judged_on": row.judged_on, "catalog_version": catalog.version},
                        }),
                    );
                }
                Format::Csv => csv_row(buffer, &model, "overall", overall, None),
            }
        })
        .await;
    })
}

fn csv_row(buffer: &mut String, model: &Ref, scope: &str, level: Option<u8>, value: Option<f64>) {
    let _ = writeln!(
        buffer,
        "{},{},{},{},{}",
        csv_field(&model.source),
        csv_field(&model.id),
        scope,
        level.map(|l| l.to_string()).unwrap_or_default(),
        value.map(number).unwrap_or_default()
    );
}

/// One row per org unit and scope; unit 0 is the "unowned" row.
pub fn rollups(pool: PgPool, snapshot: Snapshot, format: Format) -> Body {
    streamed(move |sender| async move {
        let mut buffer = String::new();
        if format == Format::Csv {
            buffer.push_str("unit_source,unit_id,unit_name,scope,level_0,level_1,level_2,level_3,unknown,exempt,score\n");
        }
        let rows = sqlx::query!(
            r#"
            SELECT coalesce(u.source, 'modelgov') AS "source!", coalesce(u.external_id, 'unowned') AS "external_id!",
                   coalesce(u.name, 'Unowned models') AS "name!",
                   x.scope AS "scope!", x.level0 AS "level0!", x.level1 AS "level1!",
                   x.level2 AS "level2!", x.level3 AS "level3!", x.unknown AS "unknown!",
                   coalesce(x.exempt, 0) AS "exempt!", x.score
            FROM unit_rollups r
            JOIN metric_snapshots s ON s.id = $1
            CROSS JOIN LATERAL unnest(s.scopes, r.level0, r.level1, r.level2, r.level3, r.unknown, r.exempt, r.score)
                WITH ORDINALITY AS x(scope, level0, level1, level2, level3, unknown, exempt, score, i)
            LEFT JOIN org_units u ON u.id = r.unit_id
            WHERE r.snapshot_id <= $1 AND r.valid_to > $1
            ORDER BY r.unit_id, x.i
            "#,
            snapshot.meta.id,
        )
        .fetch(&pool);
        pump(&sender, rows, &mut buffer, "rollups", |buffer, row| {
            match format {
                Format::Ndjson => json_line(
                    buffer,
                    &serde_json::json!({
                        "unit": {"source": row.source, "id": row.external_id},
                        "scope": row.scope,
                        "counts": {"0": row.level0, "1": row.level1, "2": row.level2, "3": row.level3, "unknown": row.unknown, "exempt": row.exempt},
                        "score": row.score,
                    }),
                ),
                Format::Csv => {
                    let _ = writeln!(
                        buffer,
                        "{},{},{},{},{},{},{},{},{},{},{}",
                        csv_field(&row.source),
                        csv_field(&row.external_id),
                        csv_field(&row.name),
                        row.scope,
                        row.level0,
                        row.level1,
                        row.level2,
                        row.level3,
                        row.unknown,
                        row.exempt,
                        row.score.map(|s| format!("{s:.3}")).unwrap_or_default()
                    );
                }
            }
        })
        .await;
    })
}
