-- Updates existing assets by external key. A field sent as null keeps the stored value; rows whose
-- values would not change are left alone (no history, reported unchanged).
WITH x AS (
    SELECT *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                $8::jsonb[], $9::jsonb[], $10::text[], $11::timestamptz[], $12::timestamptz[])
        AS x(source, external_id, label, name, description, owner_source, owner_external_id,
             owners, tags, status, started_at, ended_at)
),
proposed AS (
    SELECT a.id,
           x.name,
           COALESCE(x.label, a.label) AS label,
           COALESCE(x.description, a.description) AS description,
           CASE WHEN x.owner_source IS NULL THEN a.owner_unit_id ELSE o.id END AS owner_unit_id,
           CASE WHEN x.owners IS NULL THEN a.owners
                ELSE ARRAY(SELECT jsonb_array_elements_text(x.owners)) END AS owners,
           COALESCE(x.tags, a.tags) AS tags,
           COALESCE(x.status, a.status) AS status,
           COALESCE(x.started_at, a.started_at) AS started_at,
           COALESCE(x.ended_at, a.ended_at) AS ended_at
    FROM x
    JOIN assets a ON a.source = x.source AND a.external_id = x.external_id
    LEFT JOIN org_units o ON o.source = x.owner_source AND o.external_id = x.owner_external_id
)
UPDATE assets a
SET name = p.name, label = p.label, description = p.description, owner_unit_id = p.owner_unit_id,
    owners = p.owners, tags = p.tags, status = p.status, started_at = p.started_at,
    ended_at = p.ended_at, updated_at = now()
FROM proposed p
WHERE a.id = p.id
  AND (a.name, a.label, a.description, a.owner_unit_id, a.owners, a.tags, a.status, a.started_at, a.ended_at)
      IS DISTINCT FROM
      (p.name, p.label, p.description, p.owner_unit_id, p.owners, p.tags, p.status, p.started_at, p.ended_at)
RETURNING a.id, a.source, a.external_id
