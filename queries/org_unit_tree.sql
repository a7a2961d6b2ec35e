-- Every org unit in depth-first order with its ancestors' names, its number of children, and the
-- model sources owned by it and every unit below it.
WITH RECURSIVE tree AS (
    SELECT u.id, u.parent_id, u.source, u.external_id, u.name,
           0 AS depth,
           ARRAY[]::text[] AS ancestors,
           ARRAY[u.id] AS id_path,
           ARRAY[lower(u.name) || ' ' || u.id] AS sort_path
    FROM org_units u
    WHERE u.parent_id IS NULL
    UNION ALL
    SELECT u.id, u.parent_id, u.source, u.external_id, u.name,
           t.depth + 1,
           t.ancestors || t.name,
           t.id_path || u.id,
           t.sort_path || (lower(u.name) || ' ' || u.id)
    FROM org_units u
    JOIN tree t ON u.parent_id = t.id
),
owned AS (
    SELECT owner_unit_id AS unit_id, count(*) AS n
    FROM assets
    WHERE kind = 'model_source' AND owner_unit_id IS NOT NULL
    GROUP BY owner_unit_id
),
subtree AS (
    SELECT ancestor.id AS unit_id, sum(o.n) AS n
    FROM tree t
    JOIN owned o ON o.unit_id = t.id
    CROSS JOIN LATERAL unnest(t.id_path) AS ancestor(id)
    GROUP BY ancestor.id
),
children AS (
    SELECT parent_id AS unit_id, count(*) AS n
    FROM org_units
    WHERE parent_id IS NOT NULL
    GROUP BY parent_id
)
SELECT t.id AS "id!",
       t.source AS "source!",
       t.external_id AS "external_id!",
       t.name AS "name!",
       t.ancestors AS "ancestors!",
       t.depth AS "depth!",
       COALESCE(c.n, 0)::bigint AS "children!",
       COALESCE(s.n, 0)::bigint AS "model_sources!"
FROM tree t
LEFT JOIN children c ON c.unit_id = t.id
LEFT JOIN subtree s ON s.unit_id = t.id
ORDER BY t.sort_path
