//! The recompute's statements, written for one validated catalog: one column per metric and
//! domain, so that a model source is judged in one row instead of one row per metric (100,000
//! models × 18 metrics made the planner sort and group 1.8 million rows).
//!
//! Only structure is generated: positions, and the SQL of the computed facts, which comes from
//! the fixed list below and never from the catalog's text. Measurement names, thresholds and
//! weights are bound as array parameters and indexed by position.

use std::fmt::Write;

use crate::model::metrics::{Better, Catalog, Rule, Source};

/// The SQL of one computed fact for one judged row of the evaluation (see `evaluate`), `None` for
/// a name that is not a computed fact (the catalog's parser only lets through those of
/// `COMPUTED_FACTS`).
fn fact(name: &str) -> Option<&'static str> {
    Some(match name {
        // Unknown only without a producing run or its end time: the run produced the binary,
        // whatever it said of itself.
        "retraining_age_days" => "date_part('epoch', $2 - j.run_ended) / 86400",
        "binaries_behind_newest" => "(j.recency - 1)::float8",
        // Never unknown: a model source with no binary has no evaluation either (at risk).
        "safety_evaluation_present" => "(bm.safety_at IS NOT NULL)::int::float8",
        "safety_evaluation_age_days" => "date_part('epoch', $2 - bm.safety_at) / 86400",
        "fairness_evaluation_present" => "(bm.fairness_at IS NOT NULL)::int::float8",
        // Five links known of the chain run, model source, datasets, logical features, feature
        // sources: the first two come with the binary; with no binary, none is known (0).
        "lineage_completeness" => {
            "CASE WHEN j.binary_id IS NOT NULL THEN \
               (2 + (i.datasets IS NOT NULL)::int \
                  + coalesce(i.with_features = i.datasets, false)::int \
                  + coalesce(i.with_features = i.datasets AND i.with_unsourced = 0, false)::int \
               )::float8 / 5 ELSE 0 END"
        }
        "owned_dataset_share" => "CASE WHEN i.datasets > 0 THEN i.owned::float8 / i.datasets END",
        "security_scan_age_days" => "date_part('epoch', $2 - bm.scan_at) / 86400",
        "has_owning_unit" => "(m.owner_unit_id IS NOT NULL)::int::float8",
        "named_owner_count" => "m.owner_count::float8",
        "description_length" => "m.description_length::float8",
        "failed_run_share" => "f.share",
        _ => return None,
    })
}

/// A digest of how `catalog` is judged: the statements that gather the facts, judge them, age
/// them and compare them with the held results. Two snapshots with the same digest judged alike.
pub fn evaluation_version(catalog: &Catalog) -> String {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    for part in [
        include_str!("../../../queries/evaluate_prepare.sql").to_string(),
        include_str!("../../../queries/evaluate_scope.sql").to_string(),
        evaluate(catalog),
        age(catalog),
        write_changes(catalog),
    ] {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    hex::encode(&digest.finalize()[..6])
}

/// The parameters `evaluate` binds, in order from `$3`.
pub struct Parameters<'a> {
    /// Per metric, the measurement it reads (`None` for a computed one).
    pub measurements: Vec<Option<&'a str>>,
    pub thresholds: [Vec<f64>; 3],
    pub metric_weights: Vec<f64>,
    pub domain_weights: Vec<f64>,
}

pub fn parameters(catalog: &Catalog) -> Parameters<'_> {
    let m = &catalog.metrics;
    Parameters {
        measurements: m
            .iter()
            .map(|m| match &m.source {
                Source::Measurement(name) => Some(name.as_str()),
                Source::Computed(_) => None,
            })
            .collect(),
        thresholds: [0, 1, 2].map(|i| m.iter().map(|m| m.thresholds[i]).collect()),
        metric_weights: m.iter().map(|m| m.weight).collect(),
        domain_weights: catalog.domains.iter().map(|d| d.weight).collect(),
    }
}

/// Combines the level columns `levels` (with their weights `weights[position]`) by `rule`, as SQL;
/// unknown (NULL) levels are ignored, and with none known the result is NULL. Mirrors
/// [`crate::model::metrics::aggregate`].
fn combine(rule: Rule, levels: &[(String, usize)], weights: &str) -> String {
    if levels.is_empty() {
        return "NULL::int".into();
    }
    match rule {
        Rule::Min => format!(
            "least({})",
            levels
                .iter()
                .map(|(l, _)| l.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Rule::Mean => {
            let sum = levels
                .iter()
                .map(|(l, i)| format!("coalesce({l} * {weights}[{i}], 0)"))
                .collect::<Vec<_>>()
                .join(" + ");
            let known = levels
                .iter()
                .map(|(l, i)| format!("CASE WHEN {l} IS NULL THEN 0 ELSE {weights}[{i}] END"))
                .collect::<Vec<_>>()
                .join(" + ");
            // The tolerance keeps 2.9999999 (from weights like 0.1) at 3, as in Rust.
            format!("floor(({sum}) / nullif({known}, 0) + 1e-9)::int")
        }
    }
}

/// The temporary table the evaluation writes its results into, dropped at commit.
pub const CREATE_RESULTS: &str = "CREATE TEMP TABLE eval_results (
    model_id bigint PRIMARY KEY,
    owner_unit_id bigint,
    judged_on text NOT NULL,
    judged_binaries bigint[] NOT NULL,
    metric_values float8[] NOT NULL,
    metric_levels smallint[] NOT NULL,
    domain_levels smallint[] NOT NULL,
    overall_level smallint,
    evidence jsonb NOT NULL
) ON COMMIT DROP";

/// The columns that turn metric values `v1..` into levels, for one catalog: the metric levels
/// `l1..` (thresholds `$4..=$6`), the domain levels `d1..` (metric weights `$7`) and the overall
/// level (domain weights `$8`), and the lists of each.
struct LevelColumns {
    levels: String,
    domains: String,
    overall: String,
    values: String,
    metric_levels: String,
    domain_list: String,
}

impl LevelColumns {
    /// The stages that set the levels of the values `v1..` of `from`: `leveled` (the metric
    /// levels) and `domained` (the domain levels), each materialized: inlined, every domain's
    /// expression would repeat its metrics' level expressions and the overall level every
    /// domain's (a tree evaluated again for every row).
    fn stages(&self, from: &str) -> String {
        format!(
            "leveled AS MATERIALIZED (\n    SELECT *{}\n    FROM {from}\n),\n\
             domained AS MATERIALIZED (\n    SELECT *{}\n    FROM leveled\n)",
            self.levels, self.domains
        )
    }

    /// A result's values and levels as read from `domained`, named as `eval_results` names them.
    fn results(&self) -> String {
        format!(
            "ARRAY[{}]::float8[] AS metric_values,\n           \
             ARRAY[{}]::smallint[] AS metric_levels,\n           \
             ARRAY[{}]::smallint[] AS domain_levels,\n           \
             ({})::smallint AS overall_level",
            self.values, self.metric_levels, self.domain_list, self.overall
        )
    }

    fn of(catalog: &Catalog) -> Self {
        let metrics = &catalog.metrics;
        let mut levels = String::new();
        for (k, metric) in metrics.iter().enumerate().map(|(i, m)| (i + 1, m)) {
            let reached = if metric.direction == Better::Higher {
                ">="
            } else {
                "<="
            };
            let _ = write!(
                levels,
                ",\n           (v{k} {reached} $4[{k}])::int + (v{k} {reached} $5[{k}])::int + (v{k} {reached} $6[{k}])::int AS l{k}"
            );
        }
        let mut domains = String::new();
        for (d, domain) in catalog.domains.iter().enumerate().map(|(i, d)| (i + 1, d)) {
            let members: Vec<(String, usize)> = metrics
                .iter()
                .enumerate()
                .filter(|(_, m)| m.domain == domain.id)
                .map(|(i, _)| (format!("l{}", i + 1), i + 1))
                .collect();
            let _ = write!(
                domains,
                ",\n           {} AS d{d}",
                combine(domain.rule, &members, "$7")
            );
        }
        let domain_levels: Vec<(String, usize)> = (1..=catalog.domains.len())
            .map(|d| (format!("d{d}"), d))
            .collect();
        let list = |prefix: &str, n: usize| {
            (1..=n)
                .map(|i| format!("{prefix}{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Self {
            levels,
            domains,
            overall: combine(catalog.overall_rule, &domain_levels, "$8"),
            values: list("v", metrics.len()),
            metric_levels: list("l", metrics.len()),
            domain_list: list("d", catalog.domains.len()),
        }
    }
}

/// Ages the results that hold for the model sources outside `eval_scope` (which nothing since
/// they were judged reached) to `$2`, and writes into `eval_results` those whose levels the clock
/// alone moved: every age grows by the days since the result was judged, everything else the
/// graph decides stays as it was (the changes since would have put the model source in
/// `eval_scope`), so the levels follow from the values as `evaluate` would have judged them.
/// Binds as `evaluate` does (`$1` the snapshot and `$3` the measurement names are not read).
pub fn age(catalog: &Catalog) -> String {
    let columns = LevelColumns::of(catalog);
    let (stages, results) = (columns.stages("held"), columns.results());
    let mut aged = String::new();
    for (k, metric) in catalog.metrics.iter().enumerate().map(|(i, m)| (i + 1, m)) {
        let value = if metric.grows_with_time() {
            format!("c.metric_values[{k}] + date_part('epoch', $2 - c.judged_at) / 86400")
        } else {
            format!("c.metric_values[{k}]")
        };
        let _ = write!(aged, ",\n           {value} AS v{k}");
    }
    format!(
        r"WITH
-- Only the arrays travel through the levels: the rest of a row (its evidence above all) is read
-- for the few whose levels moved.
held AS (
    SELECT c.model_id, c.metric_levels AS held_metrics, c.domain_levels AS held_domains,
           c.overall_level AS held_overall{aged}
    FROM model_results c
    WHERE c.valid_to = {HOLDING}
      AND NOT EXISTS (SELECT 1 FROM eval_scope s WHERE s.id = c.model_id)
),
{stages},
aged AS MATERIALIZED (
    SELECT model_id, held_metrics, held_domains, held_overall,
           {results}
    FROM domained
)
INSERT INTO eval_results (model_id, owner_unit_id, judged_on, judged_binaries,
                          metric_values, metric_levels, domain_levels, overall_level, evidence)
SELECT a.model_id, c.owner_unit_id, c.judged_on, c.judged_binaries,
       a.metric_values, a.metric_levels, a.domain_levels, a.overall_level, c.evidence
FROM aged a
JOIN model_results c ON c.model_id = a.model_id AND c.valid_to = {HOLDING}
WHERE (a.metric_levels, a.domain_levels, a.overall_level)
      IS DISTINCT FROM (a.held_metrics, a.held_domains, a.held_overall)
  AND $1::bigint IS NOT NULL AND $3::text[] IS NOT NULL"
    )
}

/// Judges the model sources of the work tables of `queries/evaluate_prepare.sql` into
/// `eval_results`; `$1` is unused (the snapshot), `$2` the time judged at, `$3..=$8` the
/// [`Parameters`]: measurement names, thresholds of levels 1-3, metric weights, domain weights.
/// With several binaries judged (several in production), each metric takes the worst value.
///
/// The evidence (which runs, datasets and reports decided) is gathered for every model source
/// when `$9` is true; otherwise only for those in `eval_scope` (the ones the graph's changes since
/// the last snapshot reach) and those without a result, while the others keep the evidence of
/// the result they hold: nothing it names has changed. Gathering it is half of a full recompute.
pub fn evaluate(catalog: &Catalog) -> String {
    let metrics = &catalog.metrics;
    let mut pivot = String::new();
    let mut judged = String::new();
    let mut per_model = String::new();
    for (k, metric) in metrics.iter().enumerate().map(|(i, m)| (i + 1, m)) {
        let higher = metric.direction == Better::Higher;
        let value = match &metric.source {
            Source::Computed(name) => fact(name)
                .expect("the catalog's parser admits only computed facts")
                .to_string(),
            Source::Measurement(_) => {
                // Reported for the binary or for the run that produced it: the worse counts.
                let _ = write!(
                    pivot,
                    ",\n           max(value) FILTER (WHERE name = $3[{k}]) AS m{k}"
                );
                let pick = if higher { "least" } else { "greatest" };
                format!("{pick}(bm.m{k}, rm.m{k})")
            }
        };
        let _ = write!(judged, ",\n           {value} AS v{k}");
        let worst_of = if higher { "min" } else { "max" };
        let _ = write!(per_model, ",\n           {worst_of}(v{k}) AS v{k}");
    }
    let columns = LevelColumns::of(catalog);
    let (stages, results) = (columns.stages("valued"), columns.results());
    format!(
        r"WITH
failures AS (
    -- The share of failed runs among the model's last five finished ones (newest first).
    SELECT model_id, avg((status = 'failed')::int)::float8 AS share,
           array_agg(run_id ORDER BY n) AS recent
    FROM (SELECT model_id, status, run_id,
                 row_number() OVER (PARTITION BY model_id ORDER BY ended_at DESC NULLS LAST, run_id DESC) AS n
          FROM eval_runs WHERE status IN ('succeeded', 'failed')) finished
    WHERE n <= 5
    GROUP BY model_id
),
-- The model sources whose evidence is gathered again (see above).
fresh AS (
    SELECT m.id FROM eval_models m
    WHERE $9 OR m.id IN (SELECT id FROM eval_scope)
       OR NOT EXISTS (SELECT 1 FROM model_results c WHERE c.model_id = m.id AND c.valid_to = {HOLDING})
),
-- Evidence, by id: the datasets the producing runs read, and the reports read.
read_datasets AS (
    SELECT j.model_id, jsonb_agg(DISTINCT d.dataset_id) AS datasets
    FROM eval_judged j JOIN eval_run_datasets d ON d.run_id = j.run_id
    WHERE j.model_id IN (SELECT id FROM fresh)
    GROUP BY j.model_id
),
reports AS (
    SELECT j.model_id,
           jsonb_agg(jsonb_build_object('asset', l.asset_id, 'name', l.name, 'value', l.value, 'at', l.at)
                     ORDER BY l.name, l.asset_id) AS reports
    FROM (SELECT model_id, binary_id AS asset_id FROM eval_judged WHERE binary_id IS NOT NULL
          UNION
          SELECT model_id, run_id FROM eval_judged WHERE run_id IS NOT NULL) j
    JOIN eval_latest l ON l.asset_id = j.asset_id
    WHERE (l.name = ANY($3) OR l.name IN ('safety_evaluated', 'fairness_gap', 'security_scan_passed'))
      AND j.model_id IN (SELECT id FROM fresh)
    GROUP BY j.model_id
),
measured AS (
    -- One row per judged binary or run: its newest report of each measurement read.
    SELECT asset_id,
           max(at) FILTER (WHERE name = 'safety_evaluated') AS safety_at,
           max(at) FILTER (WHERE name = 'fairness_gap') AS fairness_at,
           max(at) FILTER (WHERE name = 'security_scan_passed') AS scan_at{pivot}
    FROM eval_latest GROUP BY asset_id
),
judged AS (
    SELECT j.model_id, j.binary_id, j.run_id, j.in_production{judged}
    FROM eval_judged j
    JOIN eval_models m ON m.id = j.model_id
    LEFT JOIN eval_inputs i ON i.run_id = j.run_id
    LEFT JOIN failures f ON f.model_id = j.model_id
    LEFT JOIN measured bm ON bm.asset_id = j.binary_id
    LEFT JOIN measured rm ON rm.asset_id = j.run_id
),
valued AS (
    SELECT model_id,
           coalesce(array_agg(binary_id ORDER BY binary_id) FILTER (WHERE binary_id IS NOT NULL), '{{}}') AS binaries,
           array_agg(DISTINCT run_id) FILTER (WHERE run_id IS NOT NULL) AS runs,
           CASE WHEN bool_or(in_production) THEN 'production'
                WHEN bool_or(binary_id IS NOT NULL) THEN 'newest_binary'
                ELSE 'no_binary' END AS judged_on{per_model}
    FROM judged GROUP BY model_id
),
{stages}
INSERT INTO eval_results (model_id, owner_unit_id, judged_on, judged_binaries,
                          metric_values, metric_levels, domain_levels, overall_level, evidence)
SELECT m.id, m.owner_unit_id, d.judged_on, d.binaries,
       {results},
       CASE WHEN fr.id IS NULL THEN held.evidence
            ELSE jsonb_build_object('runs', coalesce(to_jsonb(d.runs), '[]'), 'datasets', coalesce(rd.datasets, '[]'),
                                    'recent_runs', coalesce(to_jsonb(f.recent), '[]'), 'reports', coalesce(rp.reports, '[]'))
       END
FROM eval_models m
JOIN domained d ON d.model_id = m.id
LEFT JOIN fresh fr ON fr.id = m.id
LEFT JOIN model_results held ON fr.id IS NULL AND held.model_id = m.id AND held.valid_to = {HOLDING}
LEFT JOIN read_datasets rd ON rd.model_id = m.id
LEFT JOIN failures f ON f.model_id = m.id
LEFT JOIN reports rp ON rp.model_id = m.id
WHERE $1::bigint IS NOT NULL"
    )
}

/// Writes snapshot `$1`'s changes to `model_results` from `eval_results`, and returns how many
/// rows it wrote. A model source's row is replaced when anything changed but the ages' growth
/// with time: an age is compared by the time it counts from (its judging time less its value,
/// in days to four places), so a new scan or a corrected run end replaces the row while the
/// clock alone does not (readers add the days since judged). With `$3` true, every row is
/// replaced (the catalog changed what the arrays mean). Rows of model sources in `eval_scope`
/// (every one, with `$4` true) that were not judged are closed: the model source is gone. `$2`
/// is the time judged at.
pub fn write_changes(catalog: &Catalog) -> String {
    let stable = |row: &str, judged_at: &str| {
        let items: Vec<String> = catalog
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let value = format!("{row}.metric_values[{}]", i + 1);
                if m.grows_with_time() {
                    format!(
                        "round((date_part('epoch', {judged_at}) / 86400 - {value})::numeric, 4)::float8"
                    )
                } else {
                    value
                }
            })
            .collect();
        format!("ARRAY[{}]::float8[]", items.join(", "))
    };
    let (old, new) = (stable("c", "c.judged_at"), stable("n", "$2"));
    format!(
        r"WITH
changed AS (
    SELECT n.model_id
    FROM eval_results n
    LEFT JOIN model_results c ON c.model_id = n.model_id AND c.valid_to = {HOLDING}
    WHERE $3 OR c.model_id IS NULL
       OR (c.owner_unit_id, c.judged_on, c.judged_binaries, c.metric_levels, c.domain_levels,
           c.overall_level, c.evidence, {old})
          IS DISTINCT FROM
          (n.owner_unit_id, n.judged_on, n.judged_binaries, n.metric_levels, n.domain_levels,
           n.overall_level, n.evidence, {new})
),
gone AS (
    SELECT c.model_id
    FROM model_results c
    WHERE c.valid_to = {HOLDING}
      AND ($4 OR c.model_id IN (SELECT id FROM eval_scope))
      AND NOT EXISTS (SELECT 1 FROM eval_results n WHERE n.model_id = c.model_id)
),
closed AS (
    UPDATE model_results c SET valid_to = $1
    WHERE c.valid_to = {HOLDING}
      AND c.model_id IN (SELECT model_id FROM changed UNION ALL SELECT model_id FROM gone)
),
written AS (
    INSERT INTO model_results (snapshot_id, model_id, owner_unit_id, judged_on, judged_binaries,
                               metric_values, metric_levels, domain_levels, overall_level, judged_at,
                               evidence)
    SELECT $1, n.model_id, n.owner_unit_id, n.judged_on, n.judged_binaries,
           n.metric_values, n.metric_levels, n.domain_levels, n.overall_level, $2, n.evidence
    FROM eval_results n JOIN changed USING (model_id)
    RETURNING 1
)
SELECT count(*) FROM written"
    )
}

/// `valid_to` of a result row that still holds.
pub const HOLDING: i64 = i64::MAX;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::metrics::catalog;

    #[test]
    fn every_computed_fact_has_sql() {
        for name in crate::model::metrics::COMPUTED_FACTS {
            assert!(fact(name).is_some(), "{name} has no SQL");
        }
        assert!(fact("drop table assets").is_none());
    }

    #[test]
    fn statements_name_every_metric_and_domain_once() {
        let catalog = catalog::parse("built-in", catalog::BUILT_IN).unwrap();
        let sql = evaluate(&catalog);
        let n = catalog.metrics.len();
        assert!(sql.contains(&format!(" AS l{n}\n")) || sql.contains(&format!(" AS l{n},")));
        assert!(!sql.contains(&format!(" AS l{}", n + 1)));
        assert!(sql.contains(&format!(" AS d{}", catalog.domains.len())));
        assert!(sql.contains("INSERT INTO eval_results"));
        let write = write_changes(&catalog);
        // Ages are compared by the time they count from, every other value as it is.
        let ages = catalog
            .metrics
            .iter()
            .filter(|m| m.grows_with_time())
            .count();
        assert!(ages >= 2);
        assert_eq!(
            write.matches("date_part('epoch', c.judged_at)").count(),
            ages
        );
        assert_eq!(write.matches("date_part('epoch', $2)").count(), ages);
        assert_eq!(
            write.matches("c.metric_values[").count(),
            catalog.metrics.len()
        );
    }
}
