-- Judges every model source against the catalog in one statement and writes one row per model
-- source into model_results for snapshot $1: the level and decisive value of every metric (in
-- catalog order), every domain's level, the overall level, and what was judged.
--
-- A model source is judged on the binaries its production deployments serve, or, with nothing in
-- production, on its newest binary. With several binaries judged, each metric takes the worst
-- value. The catalog comes in as arrays, one element per metric (or domain), in catalog order.
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
models AS (
    SELECT id, owner_unit_id, cardinality(owners) AS owner_count, length(description) AS description_length
    FROM assets WHERE kind = 'model_source'
),
runs AS (
    SELECT e.to_id AS run_id, e.from_id AS model_id, r.status, r.ended_at
    FROM edges e JOIN assets r ON r.id = e.to_id
    WHERE e.from_kind = 'model_source'
),
binaries AS (
    SELECT e.to_id AS binary_id, r.run_id, r.model_id, r.status AS run_status, r.ended_at AS run_ended,
           row_number() OVER (PARTITION BY r.model_id ORDER BY r.ended_at DESC NULLS LAST, e.to_id DESC) AS recency
    FROM edges e JOIN runs r ON r.run_id = e.from_id
    WHERE e.to_kind = 'model_binary'
),
production AS (
    SELECT DISTINCT b.binary_id
    FROM binaries b
    JOIN edges s ON s.from_id = b.binary_id AND s.to_kind = 'deployment'
    JOIN assets d ON d.id = s.to_id AND d.status = 'production'
),
in_production AS (
    SELECT DISTINCT b.model_id FROM binaries b JOIN production p ON p.binary_id = b.binary_id
),
judged AS (
    SELECT m.id AS model_id, b.binary_id, b.run_id, b.run_status, b.run_ended, b.recency,
           (b.binary_id IN (SELECT binary_id FROM production)) AS in_production
    FROM models m
    LEFT JOIN binaries b ON b.model_id = m.id
    WHERE b.binary_id IS NULL
       OR b.binary_id IN (SELECT binary_id FROM production)
       OR (b.recency = 1 AND m.id NOT IN (SELECT model_id FROM in_production))
),
latest AS (
    SELECT DISTINCT ON (m.asset_id, m.name) m.asset_id, m.name, m.value, m.at
    FROM measurements m
    WHERE m.asset_id IN (SELECT binary_id FROM judged UNION SELECT run_id FROM judged)
    ORDER BY m.asset_id, m.name, m.at DESC
),
reported AS (
    SELECT asset_id,
           jsonb_object_agg(name, value) AS value,
           jsonb_object_agg(name, extract(epoch FROM ($2 - at)) / 86400) AS age_days
    FROM latest GROUP BY asset_id
),
inputs AS (
    SELECT r.run_id,
           count(d.id) AS datasets,
           count(d.owner_unit_id) AS owned,
           count(d.id) FILTER (WHERE EXISTS (
               SELECT 1 FROM edges f WHERE f.to_id = d.id AND f.from_kind = 'logical_feature')) AS with_features,
           count(d.id) FILTER (WHERE EXISTS (
               SELECT 1 FROM edges f WHERE f.to_id = d.id AND f.from_kind = 'logical_feature'
                 AND NOT EXISTS (SELECT 1 FROM edges s WHERE s.to_id = f.from_id AND s.from_kind = 'feature_source'))) AS with_unsourced
    FROM (SELECT DISTINCT run_id FROM judged WHERE run_id IS NOT NULL) r
    LEFT JOIN edges i ON i.to_id = r.run_id AND i.from_kind = 'dataset'
    LEFT JOIN assets d ON d.id = i.from_id
    GROUP BY r.run_id
),
failures AS (
    SELECT model_id, avg((status = 'failed')::int)::float8 AS share
    FROM (SELECT model_id, status,
                 row_number() OVER (PARTITION BY model_id ORDER BY ended_at DESC NULLS LAST, run_id DESC) AS n
          FROM runs WHERE status IN ('succeeded', 'failed')) finished
    WHERE n <= 5
    GROUP BY model_id
),
facts AS (
    SELECT j.model_id, j.binary_id, j.in_production,
           jsonb_strip_nulls(jsonb_build_object(
               'retraining_age_days', CASE WHEN j.run_status = 'succeeded' AND j.run_ended IS NOT NULL
                                           THEN extract(epoch FROM ($2 - j.run_ended)) / 86400 END,
               'binaries_behind_newest', CASE WHEN j.binary_id IS NOT NULL THEN j.recency - 1 END,
               'safety_evaluation_present', CASE WHEN j.binary_id IS NOT NULL
                                                 THEN (coalesce(rb.value, '{}') ? 'safety_evaluated')::int END,
               'safety_evaluation_age_days', rb.age_days -> 'safety_evaluated',
               'fairness_evaluation_present', CASE WHEN j.binary_id IS NOT NULL
                                                   THEN (coalesce(rb.value, '{}') ? 'fairness_gap')::int END,
               'lineage_completeness', CASE WHEN j.binary_id IS NOT NULL THEN
                   (2 + (i.datasets > 0)::int
                      + (i.datasets > 0 AND i.with_features = i.datasets)::int
                      + (i.datasets > 0 AND i.with_features = i.datasets AND i.with_unsourced = 0)::int
                   )::float8 / 5 END,
               'owned_dataset_share', CASE WHEN i.datasets > 0 THEN i.owned::float8 / i.datasets END,
               'security_scan_age_days', rb.age_days -> 'security_scan_passed',
               'has_owning_unit', (m.owner_unit_id IS NOT NULL)::int,
               'named_owner_count', m.owner_count,
               'description_length', m.description_length,
               'failed_run_share', f.share
           )) AS computed,
           coalesce(rr.value, '{}') || coalesce(rb.value, '{}') AS measured
    FROM judged j
    JOIN models m ON m.id = j.model_id
    LEFT JOIN reported rb ON rb.asset_id = j.binary_id
    LEFT JOIN reported rr ON rr.asset_id = j.run_id
    LEFT JOIN inputs i ON i.run_id = j.run_id
    LEFT JOIN failures f ON f.model_id = j.model_id
),
metric_values AS (
    SELECT f.model_id, c.metric, c.domain, c.weight,
           CASE WHEN c.higher THEN min(v.value) ELSE max(v.value) END AS value,
           c.higher, c.t1, c.t2, c.t3
    FROM facts f
    CROSS JOIN catalog c
    CROSS JOIN LATERAL (
        SELECT CASE WHEN c.kind = 'computed' THEN (f.computed ->> c.name)::float8
                    ELSE (f.measured ->> c.name)::float8 END AS value
    ) v
    GROUP BY f.model_id, c.metric, c.domain, c.weight, c.higher, c.t1, c.t2, c.t3
),
metric_levels AS (
    SELECT model_id, metric, domain, weight, value,
           CASE WHEN value IS NULL THEN NULL
                WHEN higher THEN ((value >= t1)::int + (value >= t2)::int + (value >= t3)::int)
                ELSE ((value <= t1)::int + (value <= t2)::int + (value <= t3)::int)
           END AS level
    FROM metric_values
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
    FROM judged GROUP BY model_id
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
FROM models m
JOIN judged_sets s ON s.model_id = m.id
JOIN metric_arrays ma ON ma.model_id = m.id
JOIN domain_arrays da ON da.model_id = m.id
LEFT JOIN overall o ON o.model_id = m.id
