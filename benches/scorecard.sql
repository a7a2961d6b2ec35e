-- pgbench script: what the company page reads (the statements of src/server/metrics/reads.rs):
-- the newest snapshot, the unit's rollups in every scope, and its children's rollups in one scope
-- (:scope, its position in the snapshot's arrays).
\set unit random(1, :max_unit)
SELECT id FROM metric_snapshots WHERE computed_at <= now() ORDER BY computed_at DESC, id DESC LIMIT 1;
SELECT level0, level1, level2, level3, unknown, score
FROM unit_rollups WHERE unit_id = :unit AND snapshot_id <= :snapshot AND valid_to > :snapshot;
SELECT u.id, u.name, coalesce(r.level0[:scope], 0), coalesce(r.level1[:scope], 0),
       coalesce(r.level2[:scope], 0), coalesce(r.level3[:scope], 0), coalesce(r.unknown[:scope], 0),
       r.score[:scope]
FROM org_units u
LEFT JOIN unit_rollups r ON r.unit_id = u.id AND r.snapshot_id <= :snapshot AND r.valid_to > :snapshot
WHERE u.parent_id = :unit
ORDER BY r.score[:scope] ASC NULLS LAST, u.name, u.id;
