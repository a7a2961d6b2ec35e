-- Rolls snapshot $1's model results up the org tree: for every unit and scope, the count of the
-- models it owns (itself and every unit below it) at each level and unknown, and the mean known
-- level. Models without an owning unit get their own row (unit 0) and count at the top of the tree.
-- $2 names the scopes in the order of the result arrays: metrics, domains, overall.
WITH RECURSIVE closure(unit_id, ancestor_id) AS (
    SELECT id, id FROM org_units
    UNION ALL
    SELECT c.unit_id, u.parent_id
    FROM closure c JOIN org_units u ON u.id = c.ancestor_id
    WHERE u.parent_id IS NOT NULL
),
scoped AS (
    SELECT coalesce(r.owner_unit_id, 0) AS unit_id, s.scope, s.level
    FROM model_results r
    CROSS JOIN LATERAL unnest($2::text[], r.metric_levels || r.domain_levels || ARRAY[r.overall_level])
        AS s(scope, level)
    WHERE r.snapshot_id = $1
),
own AS (
    SELECT unit_id, scope,
           count(*) FILTER (WHERE level = 0) AS l0,
           count(*) FILTER (WHERE level = 1) AS l1,
           count(*) FILTER (WHERE level = 2) AS l2,
           count(*) FILTER (WHERE level = 3) AS l3,
           count(*) FILTER (WHERE level IS NULL) AS unknown
    FROM scoped GROUP BY unit_id, scope
),
spread AS (
    -- Owned models count at their unit and every unit above it.
    SELECT c.ancestor_id AS unit_id, o.scope, o.l0, o.l1, o.l2, o.l3, o.unknown
    FROM own o JOIN closure c ON c.unit_id = o.unit_id
    UNION ALL
    -- Unowned models: their own row ...
    SELECT 0, scope, l0, l1, l2, l3, unknown FROM own WHERE unit_id = 0
    UNION ALL
    -- ... and counted at the top of the tree.
    SELECT u.id, o.scope, o.l0, o.l1, o.l2, o.l3, o.unknown
    FROM own o CROSS JOIN org_units u
    WHERE o.unit_id = 0 AND u.parent_id IS NULL
),
totals AS (
    SELECT unit_id, scope, sum(l0)::int AS l0, sum(l1)::int AS l1, sum(l2)::int AS l2,
           sum(l3)::int AS l3, sum(unknown)::int AS unknown
    FROM spread GROUP BY unit_id, scope
)
INSERT INTO unit_rollups (snapshot_id, unit_id, scope, level0, level1, level2, level3, unknown, score)
SELECT $1, unit_id, scope, l0, l1, l2, l3, unknown,
       CASE WHEN l0 + l1 + l2 + l3 > 0
            THEN (l1 + 2 * l2 + 3 * l3)::float8 / (l0 + l1 + l2 + l3) END
FROM totals
