-- pgbench script: what the company page reads: the newest snapshot, the unit's rollups in every
-- scope, and its children's rollups in one scope.
\set unit random(1, :max_unit)
SELECT id FROM metric_snapshots WHERE computed_at <= now() ORDER BY computed_at DESC, id DESC LIMIT 1;
SELECT scope, level0, level1, level2, level3, unknown, score
FROM unit_rollups WHERE snapshot_id = :snapshot AND unit_id = :unit;
SELECT u.id, u.name, r.level0, r.level1, r.level2, r.level3, r.unknown, r.score
FROM org_units u
LEFT JOIN unit_rollups r ON r.snapshot_id = :snapshot AND r.unit_id = u.id AND r.scope = 'overall'
WHERE u.parent_id = :unit
ORDER BY r.score ASC NULLS LAST, u.name, u.id;
