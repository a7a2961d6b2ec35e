-- The model sources that the changes with ids in ($1, $2] could affect, for an incremental
-- recompute: the changed assets (both ends of a changed edge, and the end it left), followed forward from feature
-- sources, logical features and datasets to the runs that read them, and back from deployments
-- and binaries to the runs that produced them; then those runs' model sources. Model sources
-- that changed themselves, or were judged and are gone, are in it too.
INSERT INTO eval_scope (id)
WITH RECURSIVE
changed AS (
    SELECT asset_id AS id FROM changes WHERE id > $1 AND id <= $2 AND asset_id IS NOT NULL
    UNION
    SELECT related_id FROM changes WHERE id > $1 AND id <= $2 AND related_id IS NOT NULL
    UNION
    -- An edge into a deployment that moved: the binary it left.
    SELECT (before ->> 'from_id')::bigint FROM changes
    WHERE id > $1 AND id <= $2 AND subject = 'edge' AND before ? 'from_id'
),
readers(id) AS (
    SELECT id FROM changed
    UNION
    SELECT e.to_id FROM edges e JOIN readers r ON e.from_id = r.id
    WHERE e.from_kind IN ('feature_source', 'logical_feature', 'dataset')
),
producers(id) AS (
    SELECT id FROM changed
    UNION
    SELECT e.from_id FROM edges e JOIN producers p ON e.to_id = p.id
    WHERE e.to_kind IN ('deployment', 'model_binary')
),
touched AS (
    SELECT id FROM readers UNION SELECT id FROM producers
)
SELECT a.id FROM assets a JOIN touched t ON t.id = a.id WHERE a.kind = 'model_source'
UNION
SELECT e.from_id FROM edges e JOIN touched t ON e.to_id = t.id WHERE e.from_kind = 'model_source'
UNION
SELECT c.id FROM changed c WHERE EXISTS (SELECT 1 FROM model_results r WHERE r.model_id = c.id)
ON CONFLICT DO NOTHING;
