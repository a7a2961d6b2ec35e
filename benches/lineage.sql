-- pgbench script: a depth-5 lineage walk in both directions from a random asset, exactly the
-- statement the API runs (queries/lineage.sql with the API's bounds).
\set id random(1, :max_id)
WITH RECURSIVE up(id, depth) AS (
    SELECT :id::bigint, 0
    UNION
    SELECT e.from_id, u.depth + 1 FROM up u JOIN edges e ON e.to_id = u.id WHERE u.depth < 5
),
down(id, depth) AS (
    SELECT :id::bigint, 0
    UNION
    SELECT e.to_id, d.depth + 1 FROM down d JOIN edges e ON e.from_id = d.id WHERE d.depth < 5
),
reached AS (
    (SELECT id, -depth AS distance, 'u' AS walk FROM up LIMIT 12001)
    UNION ALL
    (SELECT id, depth AS distance, 'd' AS walk FROM down LIMIT 12001)
    UNION ALL
    SELECT :id::bigint, 0, 'r'
),
nodes AS (
    SELECT id, (array_agg(distance ORDER BY abs(distance), distance))[1] AS distance
    FROM reached GROUP BY id
)
SELECT a.id, a.source, a.external_id, a.kind::text, a.name, a.status, n.distance,
       (SELECT count(*) FILTER (WHERE walk = 'u') >= 12001 OR count(*) FILTER (WHERE walk = 'd') >= 12001 FROM reached)
FROM nodes n JOIN assets a ON a.id = n.id
ORDER BY abs(n.distance), n.distance, a.id;
