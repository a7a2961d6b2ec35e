-- The first stage of a recompute: what every model source is judged on, kept in work tables
-- and analyzed, so that the planner knows their sizes when the second stage (generated from the
-- catalog by `metrics::statements`) joins them. Large CTEs are estimated badly enough to cost
-- minutes.
--
-- The tables are temporary (dropped at commit) for an incremental recompute. A full one makes
-- them unlogged instead (`metrics::work_tables`) and drops them before it commits: parallel
-- workers cannot read a temporary table, and with them the joins and sorts over 800,000 runs
-- and binaries take a third less time.
--
-- An incremental recompute judges only the model sources in the temporary table `eval_scope`:
-- it replaces the marker below with a condition on it (a fixed text, never data).

CREATE TEMP TABLE eval_models ON COMMIT DROP AS
-- Named owners count once each, whatever their letter case or surrounding spaces; no
-- description is a description of length 0 (at risk, not unknown).
SELECT id, owner_unit_id,
       (SELECT count(DISTINCT lower(btrim(o))) FROM unnest(owners) o WHERE btrim(o) <> '') AS owner_count,
       coalesce(length(description), 0) AS description_length
FROM assets WHERE kind = 'model_source' /* scope */;

-- The joins name the kind of both ends, so that they read the narrow covering indexes of
-- migration 0005 (index-only scans) rather than the wide tables.
CREATE TEMP TABLE eval_runs ON COMMIT DROP AS
SELECT e.to_id AS run_id, e.from_id AS model_id, r.status, r.ended_at
FROM eval_models m
JOIN edges e ON e.from_id = m.id AND e.from_kind = 'model_source'
JOIN assets r ON r.kind = 'workflow_run' AND r.id = e.to_id;

ANALYZE eval_models, eval_runs;

-- What each model source is judged on: the binaries its production deployments serve, or, with
-- nothing in production, its newest binary; a model source with no binary still gets one row.
-- One pass over all binaries, ranked newest first per model, keeping only the candidates
-- (780,000 binaries at 100,000 models; kept whole in a table first, they cost a write, an
-- analyze and a larger anti-join more).
CREATE TEMP TABLE eval_judged ON COMMIT DROP AS
WITH ranked AS (
    SELECT b.to_id AS binary_id, r.run_id, r.model_id, r.status AS run_status, r.ended_at AS run_ended,
           EXISTS (SELECT 1 FROM edges e JOIN assets d ON d.kind = 'deployment' AND d.id = e.to_id
                   WHERE e.from_id = b.to_id AND e.to_kind = 'deployment' AND d.status = 'production')
               AS in_production,
           row_number() OVER (PARTITION BY r.model_id ORDER BY r.ended_at DESC NULLS LAST, b.to_id DESC) AS recency
    FROM edges b
    JOIN eval_runs r ON r.run_id = b.from_id
    WHERE b.to_kind = 'model_binary'
),
chosen AS (
    SELECT * FROM ranked WHERE in_production OR recency = 1
)
SELECT m.id AS model_id, b.binary_id, b.run_id, b.run_status, b.run_ended, b.recency,
       coalesce(b.in_production, false) AS in_production
FROM eval_models m
LEFT JOIN chosen b ON b.model_id = m.id
     AND (b.in_production OR NOT EXISTS (SELECT 1 FROM chosen p WHERE p.model_id = m.id AND p.in_production));

ANALYZE eval_judged;

CREATE TEMP TABLE eval_latest ON COMMIT DROP AS
SELECT DISTINCT ON (m.asset_id, m.name) m.asset_id, m.name, m.value, m.at
FROM measurements m
WHERE m.asset_id IN (SELECT binary_id FROM eval_judged UNION SELECT run_id FROM eval_judged)
ORDER BY m.asset_id, m.name, m.at DESC;

ANALYZE eval_latest;

-- What the runs of the judged binaries were trained on: how many datasets, how many with an
-- owner, with logical features, and with a logical feature whose feature source is unknown.
CREATE TEMP TABLE eval_run_datasets ON COMMIT DROP AS
SELECT DISTINCT j.run_id, i.from_id AS dataset_id
FROM eval_judged j
JOIN edges i ON i.to_id = j.run_id AND i.from_kind = 'dataset';

ANALYZE eval_run_datasets;

CREATE TEMP TABLE eval_inputs ON COMMIT DROP AS
WITH run_datasets AS (
    SELECT * FROM eval_run_datasets
),
datasets AS (
    SELECT d.dataset_id,
           bool_or(a.owner_unit_id IS NOT NULL) AS owned,
           count(f.from_id) AS features,
           count(f.from_id) FILTER (WHERE s.from_id IS NULL) AS unsourced
    FROM (SELECT DISTINCT dataset_id FROM run_datasets) d
    -- Naming the kind reads the datasets' part of the kind index, not all two million assets.
    JOIN assets a ON a.kind = 'dataset' AND a.id = d.dataset_id
    LEFT JOIN edges f ON f.to_id = d.dataset_id AND f.from_kind = 'logical_feature'
    LEFT JOIN edges s ON s.to_id = f.from_id AND s.to_kind = 'logical_feature'
    GROUP BY d.dataset_id
)
SELECT r.run_id,
       count(*) AS datasets,
       count(*) FILTER (WHERE d.owned) AS owned,
       count(*) FILTER (WHERE d.features > 0) AS with_features,
       count(*) FILTER (WHERE d.unsourced > 0) AS with_unsourced
FROM run_datasets r JOIN datasets d ON d.dataset_id = r.dataset_id
GROUP BY r.run_id;

ANALYZE eval_inputs;
