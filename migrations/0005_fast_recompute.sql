-- A faster recompute (issue: metrics, speed).
--
-- 1. The indexes the evaluation walks (model source -> run -> binary -> deployment, and the state
--    of runs and deployments) carry the other end of each edge and the state columns, so that the
--    walk reads narrow index-only scans instead of the wide tables.
-- 2. Rollups are one row per unit and snapshot with arrays in the snapshot's scope order instead of
--    one row per unit and scope: 21,000 units made 570,000 rows a snapshot, whose inserts cost
--    more than the evaluation itself. The snapshot keeps its scope order in `scopes`.

DROP INDEX edges_one_model_source_per_workflow_run;
CREATE UNIQUE INDEX edges_one_model_source_per_workflow_run ON edges (to_id) INCLUDE (from_id)
    WHERE from_kind = 'model_source';
DROP INDEX edges_one_workflow_run_per_model_binary;
CREATE UNIQUE INDEX edges_one_workflow_run_per_model_binary ON edges (to_id) INCLUDE (from_id)
    WHERE to_kind = 'model_binary';
DROP INDEX edges_one_model_binary_per_deployment;
CREATE UNIQUE INDEX edges_one_model_binary_per_deployment ON edges (to_id) INCLUDE (from_id)
    WHERE to_kind = 'deployment';
DROP INDEX assets_kind;
CREATE INDEX assets_kind ON assets (kind, id) INCLUDE (status, ended_at);

-- The scopes of a snapshot, in the order of its rollup arrays: its catalog's metrics, then its
-- domains, then 'overall'.
ALTER TABLE metric_snapshots ADD COLUMN scopes text[];
UPDATE metric_snapshots SET scopes =
    ARRAY(SELECT 'metric:' || (m ->> 'id')
          FROM jsonb_array_elements(catalog -> 'metrics') WITH ORDINALITY AS x(m, i) ORDER BY i)
    || ARRAY(SELECT 'domain:' || (d ->> 'id')
             FROM jsonb_array_elements(catalog -> 'domains') WITH ORDINALITY AS x(d, i) ORDER BY i)
    || ARRAY['overall'];
ALTER TABLE metric_snapshots ALTER COLUMN scopes SET NOT NULL;

ALTER TABLE unit_rollups RENAME TO unit_rollups_by_scope;
ALTER TABLE unit_rollups_by_scope RENAME CONSTRAINT unit_rollups_pkey TO unit_rollups_by_scope_pkey;

-- Per org unit (0: the models no unit owns) and snapshot: element i of each array is about the
-- snapshot's scope i: how many of the models the unit owns, itself and below, sit at each level
-- and unknown, and their mean known level (NULL when none is known).
CREATE TABLE unit_rollups (
    snapshot_id bigint    NOT NULL REFERENCES metric_snapshots (id) ON DELETE CASCADE,
    unit_id     bigint    NOT NULL,
    level0      integer[] NOT NULL,
    level1      integer[] NOT NULL,
    level2      integer[] NOT NULL,
    level3      integer[] NOT NULL,
    unknown     integer[] NOT NULL,
    score       float8[]  NOT NULL,
    CONSTRAINT unit_rollups_pkey PRIMARY KEY (snapshot_id, unit_id)
);

INSERT INTO unit_rollups (snapshot_id, unit_id, level0, level1, level2, level3, unknown, score)
SELECT s.id, u.unit_id,
       array_agg(coalesce(r.level0, 0) ORDER BY x.i), array_agg(coalesce(r.level1, 0) ORDER BY x.i),
       array_agg(coalesce(r.level2, 0) ORDER BY x.i), array_agg(coalesce(r.level3, 0) ORDER BY x.i),
       array_agg(coalesce(r.unknown, 0) ORDER BY x.i), array_agg(r.score ORDER BY x.i)
FROM metric_snapshots s
JOIN (SELECT DISTINCT snapshot_id, unit_id FROM unit_rollups_by_scope) u ON u.snapshot_id = s.id
CROSS JOIN unnest(s.scopes) WITH ORDINALITY AS x(scope, i)
LEFT JOIN unit_rollups_by_scope r ON r.snapshot_id = s.id AND r.unit_id = u.unit_id AND r.scope = x.scope
GROUP BY s.id, u.unit_id;

DROP TABLE unit_rollups_by_scope;
