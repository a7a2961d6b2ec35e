-- Walks the graph from $1 upstream (when $2) and downstream (when $3) up to $4 steps, in one
-- statement. Each direction reads at most $5 rows from its walk: Postgres stops a recursive walk
-- as soon as its reader stops asking, so the LIMIT bounds the work, not only the answer.
-- Returns each node once, at its shortest distance (negative upstream), with what lists show.
WITH RECURSIVE up(id, depth) AS (
    SELECT $1::bigint, 0 WHERE $2::bool
    UNION
    SELECT e.from_id, u.depth + 1
    FROM up u JOIN edges e ON e.to_id = u.id
    WHERE u.depth < $4::int
),
down(id, depth) AS (
    SELECT $1::bigint, 0 WHERE $3::bool
    UNION
    SELECT e.to_id, d.depth + 1
    FROM down d JOIN edges e ON e.from_id = d.id
    WHERE d.depth < $4::int
),
reached AS (
    (SELECT id, -depth AS distance, 'u' AS walk FROM up LIMIT $5::bigint)
    UNION ALL
    (SELECT id, depth AS distance, 'd' AS walk FROM down LIMIT $5::bigint)
    UNION ALL
    SELECT $1::bigint, 0, 'r'
),
nodes AS (
    SELECT id, (array_agg(distance ORDER BY abs(distance), distance))[1] AS distance
    FROM reached
    GROUP BY id
)
SELECT a.id AS "id!", a.source AS "source!", a.external_id AS "external_id!",
       a.kind::text AS "kind!", a.name AS "name!", a.status,
       n.distance AS "distance!",
       (SELECT count(*) FILTER (WHERE walk = 'u') >= $5::bigint
            OR count(*) FILTER (WHERE walk = 'd') >= $5::bigint FROM reached) AS "hit_row_cap!"
FROM nodes n
JOIN assets a ON a.id = n.id
ORDER BY abs(n.distance), n.distance, a.id
