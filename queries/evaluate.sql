-- The second stage of a recompute (after evaluate_prepare.sql): judges every model source
-- against the catalog in one statement and writes one row per model source into model_results for
-- snapshot $1: the level and decisive value of every metric (in catalog order), every domain's
-- level, the overall level, and what was judged. With several binaries judged, each metric takes
-- the worst value. The catalog comes in as arrays, one element per metric (or domain), in catalog
-- order.
--
-- $2 now; metrics: $3 source kind (computed|measurement), $4 source name, $5 higher is better,
-- $6 $7 $8 thresholds of levels 1-3, $9 weight, $10 domain (1-based); domains: $11 rule, $12 weight;
-- $13 the overall rule.
WITH
catalog AS (
    SELECT i AS metric, kind, name, higher, t1, t2, t3, weight, domain
    FROM unnest($3::text[], $4::text[], $5::bool[], $6::float8[], $7::float8[], $8::float8[],
                $9::float8[], $10::int[]) WITH ORDINALITY
        AS c(kind, name, higher, t1, t2, t3, weight, domain, i)
),
domains AS (
    SELECT i AS domain, rule, weight
    FROM unnest($11::text[], $12::float8[]) WITH ORDINALITY AS d(rule, weight, i)
),
failures AS (
    SELECT model_id, avg((status = 'failed')::int)::float8 AS share
    FROM (SELECT model_id, status,
                 row_number() OVER (PARTITION BY model_id ORDER BY ended_at DESC NULLS LAST, run_id DESC) AS n
          FROM eval_runs WHERE status IN ('succeeded', 'failed')) finished
    WHERE n <= 5
    GROUP BY model_id
),
-- Every computed fact of every judged binary, as (model, fact, value) rows.
fact_values AS (
    SELECT j.model_id, v.name, v.value
    FROM eval_judged j
    JOIN eval_models m ON m.id = j.model_id
    LEFT JOIN eval_inputs i ON i.run_id = j.run_id
    LEFT JOIN failures f ON f.model_id = j.model_id
    LEFT JOIN eval_latest safety ON safety.asset_id = j.binary_id AND safety.name = 'safety_evaluated'
    LEFT JOIN eval_latest fairness ON fairness.asset_id = j.binary_id AND fairness.name = 'fairness_gap'
    LEFT JOIN eval_latest scan ON scan.asset_id = j.binary_id AND scan.name = 'security_scan_passed'
    CROSS JOIN LATERAL (VALUES
        ('retraining_age_days', CASE WHEN j.run_status = 'succeeded' AND j.run_ended IS NOT NULL
                                     THEN extract(epoch FROM ($2 - j.run_ended)) / 86400 END),
        ('binaries_behind_newest', (j.recency - 1)::float8),
        ('safety_evaluation_present', CASE WHEN j.binary_id IS NOT NULL
                                           THEN (safety.asset_id IS NOT NULL)::int::float8 END),
        ('safety_evaluation_age_days', extract(epoch FROM ($2 - safety.at)) / 86400),
        ('fairness_evaluation_present', CASE WHEN j.binary_id IS NOT NULL
                                             THEN (fairness.asset_id IS NOT NULL)::int::float8 END),
        ('lineage_completeness', CASE WHEN j.binary_id IS NOT NULL THEN
            (2 + (i.datasets IS NOT NULL)::int
               + coalesce(i.with_features = i.datasets, false)::int
               + coalesce(i.with_features = i.datasets AND i.with_unsourced = 0, false)::int
            )::float8 / 5 END),
        ('owned_dataset_share', CASE WHEN i.datasets > 0 THEN i.owned::float8 / i.datasets END),
        ('security_scan_age_days', extract(epoch FROM ($2 - scan.at)) / 86400),
        ('has_owning_unit', (m.owner_unit_id IS NOT NULL)::int::float8),
        ('named_owner_count', m.owner_count::float8),
        ('description_length', m.description_length::float8),
        ('failed_run_share', f.share)
    ) AS v(name, value)
    WHERE v.value IS NOT NULL
),
-- Every reported measurement of a judged binary (or of the run that produced it).
measured_values AS (
    SELECT j.model_id, l.name, l.value FROM eval_judged j JOIN eval_latest l ON l.asset_id = j.binary_id
    UNION ALL
    SELECT j.model_id, l.name, l.value FROM eval_judged j JOIN eval_latest l ON l.asset_id = j.run_id
),
-- Per model and metric, the worst value over the binaries judged.
worst AS (
    SELECT x.model_id, c.metric, CASE WHEN c.higher THEN min(x.value) ELSE max(x.value) END AS value
    FROM (
        SELECT model_id, 'computed' AS kind, name, value FROM fact_values
        UNION ALL
        SELECT model_id, 'measurement', name, value FROM measured_values
    ) x
    JOIN catalog c ON c.kind = x.kind AND c.name = x.name
    GROUP BY x.model_id, c.metric, c.higher
),
metric_levels AS (
    SELECT m.id AS model_id, c.metric, c.domain, c.weight, w.value,
           CASE WHEN w.value IS NULL THEN NULL
                WHEN c.higher THEN ((w.value >= c.t1)::int + (w.value >= c.t2)::int + (w.value >= c.t3)::int)
                ELSE ((w.value <= c.t1)::int + (w.value <= c.t2)::int + (w.value <= c.t3)::int)
           END AS level
    FROM eval_models m
    CROSS JOIN catalog c
    LEFT JOIN worst w ON w.model_id = m.id AND w.metric = c.metric
),
domain_levels AS (
    SELECT l.model_id, l.domain, d.weight,
           CASE WHEN d.rule = 'min' THEN min(l.level)
                ELSE floor(sum(l.level * l.weight) / nullif(sum(l.weight) FILTER (WHERE l.level IS NOT NULL), 0) + 1e-9)::int
           END AS level
    FROM metric_levels l JOIN domains d ON d.domain = l.domain
    GROUP BY l.model_id, l.domain, d.weight, d.rule
),
overall AS (
    SELECT model_id,
           CASE WHEN $13::text = 'min' THEN min(level)
                ELSE floor(sum(level * weight) / nullif(sum(weight) FILTER (WHERE level IS NOT NULL), 0) + 1e-9)::int
           END AS level
    FROM domain_levels GROUP BY model_id
),
judged_sets AS (
    SELECT model_id,
           coalesce(array_agg(binary_id ORDER BY binary_id) FILTER (WHERE binary_id IS NOT NULL), '{}') AS binaries,
           CASE WHEN bool_or(in_production) THEN 'production'
                WHEN bool_or(binary_id IS NOT NULL) THEN 'newest_binary'
                ELSE 'no_binary' END AS judged_on
    FROM eval_judged GROUP BY model_id
),
metric_arrays AS (
    SELECT model_id, array_agg(value ORDER BY metric) AS vals,
           array_agg(level::smallint ORDER BY metric) AS levels
    FROM metric_levels GROUP BY model_id
),
domain_arrays AS (
    SELECT model_id, array_agg(level::smallint ORDER BY domain) AS levels
    FROM domain_levels GROUP BY model_id
)
INSERT INTO model_results (snapshot_id, model_id, owner_unit_id, judged_on, judged_binaries,
                           metric_values, metric_levels, domain_levels, overall_level)
SELECT $1, m.id, m.owner_unit_id, s.judged_on, s.binaries, ma.vals, ma.levels, da.levels,
       o.level::smallint
FROM eval_models m
JOIN judged_sets s ON s.model_id = m.id
JOIN metric_arrays ma ON ma.model_id = m.id
JOIN domain_arrays da ON da.model_id = m.id
LEFT JOIN overall o ON o.model_id = m.id
