//! Reading metric results: snapshots as of a time, scorecards, children ranked, the models that
//! hold a unit back, one model's metrics with evidence, and trends. Every read is of precomputed
//! rows. Compiled only with `ssr`.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::PgPool;
use tracing::instrument;

use crate::error::AppError;
use crate::model::dashboard::Bucket;
use crate::model::evidence::{EvidenceIds, Facts, Report, because};
use crate::model::graph::AssetSummary;
use crate::model::metrics::{
    Catalog, ChildRollup, Counts, Level, MetricResult, ModelLevelRow, ModelMetrics, ScopeRollup,
    Scorecard, SnapshotMeta, TrendPoint, UnitName, UnitRollupRow, lift, metric_evidence,
};
use crate::model::record::{AssetKind, Ref};

/// A unit's rollup from a row with the unit's columns (`id`, `source`, `external_id`, `name`)
/// and the rollup's (`level0`..`level3`, `unknown`, `exempt`, `score`): the rows of two queries
/// that read them the same way.
macro_rules! rollup_of {
    ($row:ident) => {
        ChildRollup {
            unit: UnitName {
                id: $row.id,
                source: $row.source,
                external_id: $row.external_id,
                name: $row.name,
            },
            counts: counts(
                [$row.level0, $row.level1, $row.level2, $row.level3],
                $row.unknown,
                $row.exempt,
            ),
            score: $row.score,
        }
    };
}

/// A snapshot with the catalog that gives its arrays meaning.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    pub catalog: Catalog,
}

impl Snapshot {
    /// Where `scope` sits (from 1) in this snapshot's rollup arrays; 400 when its catalog has no
    /// such scope.
    pub fn position(&self, scope: &str) -> Result<i32, AppError> {
        self.catalog.check_scope(scope)?;
        let i = self
            .catalog
            .scopes()
            .iter()
            .position(|s| s == scope)
            .unwrap_or(0);
        Ok(i32::try_from(i + 1).unwrap_or(i32::MAX))
    }
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn counts(levels: [i32; 4], unknown: i32, exempt: i32) -> Counts {
    Counts {
        levels: levels.map(i64::from),
        unknown: i64::from(unknown),
        exempt: i64::from(exempt),
    }
}

pub fn level(value: Option<i16>) -> Option<Level> {
    value
        .and_then(|v| u8::try_from(v).ok())
        .and_then(Level::new)
}

/// The newest snapshot computed at or before `as_of` (now when `None`); 404 when there is none.
#[instrument(skip_all)]
pub async fn snapshot(pool: &PgPool, as_of: Option<DateTime<Utc>>) -> Result<Snapshot, AppError> {
    let row = sqlx::query!(
        r#"
        SELECT id, computed_at, catalog_version, catalog
        FROM metric_snapshots
        WHERE computed_at <= coalesce($1, now())
        ORDER BY computed_at DESC, id DESC
        LIMIT 1
        "#,
        as_of,
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        let first = sqlx::query_scalar!("SELECT min(computed_at) FROM metric_snapshots")
            .fetch_one(pool)
            .await?;
        return Err(AppError::NotFound(match (as_of, first) {
            (Some(t), Some(first)) => format!(
                "no metrics were computed by {}: the first results are from {}; choose a time after it",
                rfc3339(t),
                rfc3339(first)
            ),
            _ => "no metrics have been computed yet; they are computed shortly after the first writes (or run `modelgov recompute`)".into(),
        }));
    };
    let catalog: Catalog = serde_json::from_value(row.catalog).map_err(|e| {
        tracing::error!(error = %e, snapshot = row.id, "a snapshot's catalog does not read");
        AppError::Internal
    })?;
    Ok(Snapshot {
        meta: SnapshotMeta {
            id: row.id,
            computed_at: rfc3339(row.computed_at),
            catalog_version: row.catalog_version,
        },
        catalog,
    })
}

/// The org unit with this external key, or the company (see `modelgov_company()` in the
/// migrations: the unit configured, else the first top-level unit written) when `key` is `None`.
pub async fn unit(pool: &PgPool, key: Option<&Ref>) -> Result<UnitName, AppError> {
    if key == Some(&crate::model::dashboard::unowned_ref()) {
        return Ok(UnitName {
            id: crate::model::dashboard::UNOWNED_UNIT_ID,
            source: String::new(),
            external_id: String::new(),
            name: crate::model::dashboard::UNOWNED_NAME.into(),
        });
    }
    let row = match key {
        Some(key) => sqlx::query_as!(
            UnitName,
            "SELECT id, source, external_id, name FROM org_units WHERE source = $1 AND external_id = $2",
            key.source,
            key.id
        )
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no org unit {key}")))?,
        None => sqlx::query_as!(
            UnitName,
            "SELECT id, source, external_id, name FROM org_units WHERE id = modelgov_company()"
        )
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound("there are no org units yet".into()))?,
    };
    Ok(row)
}

/// Every scope's rollup for one unit.
#[instrument(skip_all, fields(unit = unit.id))]
pub async fn scorecard(
    pool: &PgPool,
    snapshot: &Snapshot,
    unit: UnitName,
) -> Result<Scorecard, AppError> {
    let row = sqlx::query!(
        r#"
        SELECT level0, level1, level2, level3, unknown, coalesce(exempt, '{}') AS "exempt!",
               score AS "score: Vec<Option<f64>>"
        FROM unit_rollups WHERE unit_id = $2 AND snapshot_id <= $1 AND valid_to > $1
        "#,
        snapshot.meta.id,
        unit.id,
    )
    .fetch_optional(pool)
    .await?;
    // A unit with no models at or below it has no row: every count is zero.
    let rollups = snapshot
        .catalog
        .scopes()
        .into_iter()
        .enumerate()
        .map(|(i, scope)| {
            let (counts, score) = row.as_ref().map_or((Counts::default(), None), |r| {
                let n = |column: &[i32]| column.get(i).copied().unwrap_or(0);
                (
                    counts(
                        [n(&r.level0), n(&r.level1), n(&r.level2), n(&r.level3)],
                        n(&r.unknown),
                        n(&r.exempt),
                    ),
                    r.score.get(i).copied().flatten(),
                )
            });
            ScopeRollup {
                scope,
                counts,
                score,
            }
        })
        .collect();
    Ok(Scorecard {
        unit,
        snapshot: snapshot.meta.clone(),
        rollups,
    })
}

/// The units directly below `unit_id` (and, below the top, the unowned row) in one scope, the
/// lowest score first; units without models come last.
#[instrument(skip_all, fields(unit = unit_id, scope))]
pub async fn children(
    pool: &PgPool,
    snapshot: &Snapshot,
    unit_id: i64,
    scope: &str,
) -> Result<Vec<ChildRollup>, AppError> {
    let rows = sqlx::query!(
        r#"
        SELECT u.id, u.source, u.external_id, u.name,
               coalesce(r.level0[$3], 0) AS "level0!", coalesce(r.level1[$3], 0) AS "level1!",
               coalesce(r.level2[$3], 0) AS "level2!", coalesce(r.level3[$3], 0) AS "level3!",
               coalesce(r.unknown[$3], 0) AS "unknown!", coalesce(r.exempt[$3], 0) AS "exempt!",
               r.score[$3] AS score
        FROM org_units u
        LEFT JOIN unit_rollups r ON r.unit_id = u.id AND r.snapshot_id <= $1 AND r.valid_to > $1
        WHERE u.parent_id = $2
        ORDER BY r.score[$3] ASC NULLS LAST, u.name, u.id
        "#,
        snapshot.meta.id,
        unit_id,
        snapshot.position(scope)?,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|row| rollup_of!(row)).collect())
}

/// The models below `unit_id` (at the company, the models no unit owns too, as its rollup counts
/// them) that hold it back most in `scope`: at risk first, then unknown (nothing says they are
/// better), then basic, managed and optimized, then the most of the scope's metrics at risk;
/// `limit` of them from `offset`.
#[instrument(skip_all, fields(unit = unit_id, scope))]
pub async fn worst_models(
    pool: &PgPool,
    snapshot: &Snapshot,
    unit_id: i64,
    scope: &str,
    bucket: Option<Bucket>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ModelLevelRow>, AppError> {
    let position = snapshot.position(scope)?;
    // The metrics the scope covers (1-based), whose levels at 0 count as "metrics at risk".
    let catalog = &snapshot.catalog;
    let covered: Vec<i64> = catalog
        .metrics
        .iter()
        .enumerate()
        .filter(|(_, m)| match scope.split_once(':') {
            Some(("metric", id)) => m.id == id,
            Some(("domain", id)) => m.domain == id,
            _ => true,
        })
        .map(|(i, _)| i64::try_from(i + 1).unwrap_or(i64::MAX))
        .collect();
    let (only_level, only_unknown) = match bucket {
        Some(Bucket::Level(level)) => (Some(i16::from(level.get())), false),
        Some(Bucket::Unknown) => (None, true),
        Some(Bucket::Exempt) | None => (None, false),
    };
    // The exemptions that cover this scope: its own, and for a metric its domain's. A bucket of
    // levels leaves out the exempt models (they count as exempt); the exempt bucket holds them.
    let exempting: Vec<String> = match scope.split_once(':') {
        Some(("metric", id)) => std::iter::once(scope.to_string())
            .chain(catalog.metric(id).map(|m| format!("domain:{}", m.domain)))
            .collect(),
        Some(("domain", _)) => vec![scope.to_string()],
        _ => Vec::new(),
    };
    let exempt_only = bucket == Some(Bucket::Exempt);
    let leave_out_exempt = bucket.is_some() && !exempt_only;
    let rows = sqlx::query!(
        r#"
        WITH RECURSIVE below(id) AS (
            SELECT $2::bigint
            UNION ALL
            SELECT u.id FROM org_units u JOIN below b ON u.parent_id = b.id
        ),
        judged AS (
            SELECT r.model_id,
                   (r.metric_levels || r.domain_levels || ARRAY[r.overall_level])[$3] AS level,
                   (SELECT count(*) FROM unnest(r.metric_levels) WITH ORDINALITY AS x(l, i)
                    WHERE x.l = 0 AND x.i = ANY($7)) AS at_risk
            FROM model_results r
            WHERE r.snapshot_id <= $1 AND r.valid_to > $1
              AND (r.owner_unit_id IN (SELECT id FROM below)
                   OR (r.owner_unit_id IS NULL AND ($2 = 0 OR $2 = modelgov_company())))
        ),
        exempt AS (
            SELECT e.model_id FROM exemptions e JOIN metric_snapshots s ON s.id = $1
            WHERE e.scope = ANY($9) AND e.approved_at <= s.computed_at
              AND e.expires_at > s.computed_at
              AND (e.revoked_at IS NULL OR e.revoked_at > s.computed_at)
        ),
        -- The page's worth first, then their names: a company has 100,000 models.
        worst AS (
            SELECT * FROM judged
            WHERE ($5::smallint IS NULL OR level = $5) AND (NOT $6 OR level IS NULL)
              AND (NOT $10 OR model_id IN (SELECT model_id FROM exempt))
              AND (NOT $11 OR model_id NOT IN (SELECT model_id FROM exempt))
            ORDER BY coalesce(level, 0.5) ASC, at_risk DESC, model_id
            LIMIT $4 OFFSET $8
        )
        SELECT a.source, a.external_id, a.name, j.level, j.at_risk AS "at_risk!"
        FROM worst j
        JOIN assets a ON a.id = j.model_id
        ORDER BY coalesce(j.level, 0.5) ASC, j.at_risk DESC, j.model_id
        "#,
        snapshot.meta.id,
        unit_id,
        position,
        limit,
        only_level,
        only_unknown,
        &covered,
        offset,
        &exempting,
        exempt_only,
        leave_out_exempt,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ModelLevelRow {
            model: Ref {
                source: row.source,
                id: row.external_id,
            },
            name: row.name,
            level: level(row.level),
            at_risk_metrics: row.at_risk,
        })
        .collect())
}

/// One model source's results with evidence and what would lift each metric.
#[instrument(skip_all, fields(model = %key))]
pub async fn model_metrics(
    pool: &PgPool,
    snapshot: &Snapshot,
    key: &Ref,
) -> Result<ModelMetrics, AppError> {
    let row = sqlx::query!(
        r#"
        SELECT a.name, r.judged_on, r.metric_values AS "metric_values: Vec<Option<f64>>",
               r.metric_levels AS "metric_levels: Vec<Option<i16>>",
               r.domain_levels AS "domain_levels: Vec<Option<i16>>", r.overall_level,
               asset_refs(r.judged_binaries) AS "binaries!: sqlx::types::Json<Vec<Ref>>",
               r.judged_binaries, r.evidence AS "evidence: sqlx::types::Json<EvidenceIds>",
               date_part('epoch', s.computed_at - r.judged_at) / 86400 AS "days_since_judged!"
        FROM assets a
        JOIN model_results r ON r.model_id = a.id AND r.snapshot_id <= $1 AND r.valid_to > $1
        JOIN metric_snapshots s ON s.id = $1
        WHERE a.source = $2 AND a.external_id = $3 AND a.kind = 'model_source'
        "#,
        snapshot.meta.id,
        key.source,
        key.id,
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| {
        AppError::NotFound(format!(
            "no results for a model source {key} in snapshot {}",
            snapshot.meta.id
        ))
    })?;
    let binaries: Vec<Ref> = row.binaries.0;
    let catalog = &snapshot.catalog;
    let values = aged(catalog, &row.metric_values, row.days_since_judged);
    let facts = evidence_facts(pool, &row.judged_binaries, &row.evidence.0).await?;
    let metrics = catalog
        .metrics
        .iter()
        .enumerate()
        .map(|(i, metric)| {
            let value = values.get(i).copied().flatten();
            MetricResult {
                metric: metric.id.clone(),
                domain: metric.domain.clone(),
                question: metric.question.clone(),
                level: level(row.metric_levels.get(i).copied().flatten()),
                value,
                shown: value.map(|v| metric.show(v)),
                lift: lift(metric, value),
                because: because(metric, value, &row.judged_on, &facts),
                evidence: metric_evidence(
                    metric,
                    value,
                    &row.judged_on,
                    &binaries,
                    &catalog.version,
                ),
            }
        })
        .collect();
    Ok(ModelMetrics {
        model: key.clone(),
        name: row.name,
        snapshot: snapshot.meta.clone(),
        judged_on: row.judged_on,
        judged_binaries: binaries,
        overall: level(row.overall_level),
        domains: catalog
            .domains
            .iter()
            .enumerate()
            .map(|(i, d)| {
                (
                    d.id.clone(),
                    level(row.domain_levels.get(i).copied().flatten()),
                )
            })
            .collect(),
        metrics,
    })
}

/// Resolves the ids a result kept as evidence (and its judged binaries) to the assets, as they
/// are named now; an asset since gone is left out.
async fn evidence_facts(
    pool: &PgPool,
    binaries: &[i64],
    ids: &EvidenceIds,
) -> Result<Facts, AppError> {
    let mut wanted = ids.ids();
    wanted.extend_from_slice(binaries);
    let rows = sqlx::query!(
        r#"
        SELECT id, source, external_id, kind::text AS "kind!", name, status, ended_at
        FROM assets WHERE id = ANY($1)
        "#,
        &wanted,
    )
    .fetch_all(pool)
    .await?;
    let found: std::collections::HashMap<i64, (AssetSummary, Option<String>)> = rows
        .into_iter()
        .filter_map(|row| {
            let kind = AssetKind::parse(&row.kind)?;
            Some((
                row.id,
                (
                    AssetSummary {
                        key: Ref {
                            source: row.source,
                            id: row.external_id,
                        },
                        kind,
                        name: row.name,
                        status: row.status,
                    },
                    row.ended_at.map(rfc3339),
                ),
            ))
        })
        .collect();
    let summaries = |list: &[i64]| -> Vec<AssetSummary> {
        list.iter()
            .filter_map(|id| found.get(id).map(|(a, _)| a.clone()))
            .collect()
    };
    Ok(Facts {
        binaries: summaries(binaries),
        runs: ids
            .runs
            .iter()
            .filter_map(|id| found.get(id).cloned())
            .collect(),
        datasets: summaries(&ids.datasets),
        recent_runs: summaries(&ids.recent_runs),
        reports: ids
            .reports
            .iter()
            .filter_map(|r| {
                found.get(&r.asset).map(|(asset, _)| Report {
                    asset: asset.clone(),
                    name: r.name.clone(),
                    value: r.value,
                    at: r.at.clone(),
                })
            })
            .collect(),
    })
}

/// A result's metric values as of the snapshot read: the ages (see
/// [`crate::model::metrics::Metric::grows_with_time`]) grow by the days since the row was judged,
/// which a row kept over several snapshots needs.
pub fn aged(catalog: &Catalog, values: &[Option<f64>], days_since_judged: f64) -> Vec<Option<f64>> {
    values
        .iter()
        .zip(&catalog.metrics)
        .map(|(value, metric)| {
            value.map(|v| {
                if metric.grows_with_time() {
                    v + days_since_judged.max(0.0)
                } else {
                    v
                }
            })
        })
        .collect()
}

/// Every unit's rollup in one scope, in tree order, for a metric's spread over the org.
#[instrument(skip_all, fields(scope))]
pub async fn spread(
    pool: &PgPool,
    snapshot: &Snapshot,
    scope: &str,
) -> Result<Vec<UnitRollupRow>, AppError> {
    let rows = sqlx::query!(
        r#"
        WITH RECURSIVE tree AS (
            SELECT id, 0 AS depth, ARRAY[lower(name) || ' ' || id] AS sort_path
            FROM org_units WHERE parent_id IS NULL
            UNION ALL
            SELECT u.id, t.depth + 1, t.sort_path || (lower(u.name) || ' ' || u.id)
            FROM org_units u JOIN tree t ON u.parent_id = t.id
        )
        SELECT u.id, u.source, u.external_id, u.name, u.parent_id, t.depth AS "depth!",
               coalesce(r.level0[$2], 0) AS "level0!", coalesce(r.level1[$2], 0) AS "level1!",
               coalesce(r.level2[$2], 0) AS "level2!", coalesce(r.level3[$2], 0) AS "level3!",
               coalesce(r.unknown[$2], 0) AS "unknown!", coalesce(r.exempt[$2], 0) AS "exempt!",
               r.score[$2] AS score
        FROM tree t
        JOIN org_units u ON u.id = t.id
        LEFT JOIN unit_rollups r ON r.unit_id = u.id AND r.snapshot_id <= $1 AND r.valid_to > $1
        ORDER BY t.sort_path
        "#,
        snapshot.meta.id,
        snapshot.position(scope)?,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| UnitRollupRow {
            rollup: rollup_of!(row),
            parent_id: row.parent_id,
            depth: row.depth,
        })
        .collect())
}

#[instrument(skip_all, fields(unit = unit_id, scope))]
pub async fn trend(
    pool: &PgPool,
    unit_id: i64,
    scope: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<TrendPoint>, AppError> {
    let rows = sqlx::query!(
        r#"
        SELECT s.computed_at, r.level0[p.i] AS "level0!", r.level1[p.i] AS "level1!",
               r.level2[p.i] AS "level2!", r.level3[p.i] AS "level3!", r.unknown[p.i] AS "unknown!",
               coalesce(r.exempt[p.i], 0) AS "exempt!", r.score[p.i] AS score
        FROM metric_snapshots s
        CROSS JOIN LATERAL (SELECT array_position(s.scopes, $2) AS i) p
        JOIN unit_rollups r ON r.unit_id = $1 AND r.snapshot_id <= s.id AND r.valid_to > s.id
        WHERE s.computed_at BETWEEN $3 AND $4 AND p.i IS NOT NULL
        ORDER BY s.computed_at
        "#,
        unit_id,
        scope,
        since,
        until,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| TrendPoint {
            computed_at: rfc3339(row.computed_at),
            counts: counts(
                [row.level0, row.level1, row.level2, row.level3],
                row.unknown,
                row.exempt,
            ),
            score: row.score,
        })
        .collect())
}

/// A child unit with its counts in every scope of the snapshot.
pub struct ChildArrays {
    pub unit: UnitName,
    pub counts: Vec<Counts>,
    pub scores: Vec<Option<f64>>,
}

/// The units directly below `unit_id`, by name, with their rollups at `snapshot` (zero counts for
/// a unit with none).
pub async fn child_rollups(
    pool: &PgPool,
    snapshot: &Snapshot,
    unit_id: i64,
) -> Result<Vec<ChildArrays>, AppError> {
    let rows = sqlx::query!(
        r#"
        SELECT u.id, u.source, u.external_id, u.name,
               r.level0 AS "level0?", r.level1 AS "level1?", r.level2 AS "level2?",
               r.level3 AS "level3?", r.unknown AS "unknown?", r.exempt AS "exempt?",
               r.score AS "score?: Vec<Option<f64>>"
        FROM org_units u
        LEFT JOIN unit_rollups r ON r.unit_id = u.id AND r.snapshot_id <= $1 AND r.valid_to > $1
        WHERE u.parent_id = $2
        ORDER BY u.name, u.id
        "#,
        snapshot.meta.id,
        unit_id,
    )
    .fetch_all(pool)
    .await?;
    let width = snapshot.catalog.scopes().len();
    Ok(rows
        .into_iter()
        .map(|r| {
            let at = |column: &Option<Vec<i32>>, i: usize| {
                i64::from(column.as_ref().and_then(|c| c.get(i).copied()).unwrap_or(0))
            };
            ChildArrays {
                counts: (0..width)
                    .map(|i| Counts {
                        levels: [
                            at(&r.level0, i),
                            at(&r.level1, i),
                            at(&r.level2, i),
                            at(&r.level3, i),
                        ],
                        unknown: at(&r.unknown, i),
                        exempt: at(&r.exempt, i),
                    })
                    .collect(),
                scores: (0..width)
                    .map(|i| r.score.as_ref().and_then(|s| s.get(i).copied().flatten()))
                    .collect(),
                unit: UnitName {
                    id: r.id,
                    source: r.source,
                    external_id: r.external_id,
                    name: r.name,
                },
            }
        })
        .collect())
}

/// The levels that hold now for one model source, by scope (every metric, domain and overall
/// of the catalog its result was judged with); empty when it has never been judged.
pub async fn held_levels(
    db: &mut sqlx::PgConnection,
    model_id: i64,
) -> Result<Vec<(String, Option<Level>)>, AppError> {
    let row = sqlx::query!(
        r#"
        SELECT s.scopes, r.metric_levels AS "metric_levels: Vec<Option<i16>>",
               r.domain_levels AS "domain_levels: Vec<Option<i16>>", r.overall_level
        FROM model_results r JOIN metric_snapshots s ON s.id = r.snapshot_id
        WHERE r.model_id = $1 AND r.valid_to = $2
        "#,
        model_id,
        super::statements::HOLDING,
    )
    .fetch_optional(&mut *db)
    .await?;
    Ok(row.map_or_else(Vec::new, |r| {
        let levels = r
            .metric_levels
            .into_iter()
            .chain(r.domain_levels)
            .chain(std::iter::once(r.overall_level));
        r.scopes.into_iter().zip(levels.map(level)).collect()
    }))
}
