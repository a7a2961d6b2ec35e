-- Inserts new assets, their owning unit resolved by external key. A row another writer created
-- since the batch was checked is skipped, and the caller checks the batch again.
INSERT INTO assets (source, external_id, kind, label, name, description, owner_unit_id, owners,
                    tags, status, started_at, ended_at)
SELECT x.source, x.external_id, x.kind::asset_kind, x.label, x.name, COALESCE(x.description, ''),
       o.id,
       CASE WHEN x.owners IS NULL THEN '{}'::text[]
            ELSE ARRAY(SELECT jsonb_array_elements_text(x.owners)) END,
       COALESCE(x.tags, '{}'::jsonb), x.status, x.started_at, x.ended_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::jsonb[], $10::jsonb[], $11::text[], $12::timestamptz[], $13::timestamptz[])
    AS x(source, external_id, kind, label, name, description, owner_source, owner_external_id,
         owners, tags, status, started_at, ended_at)
LEFT JOIN org_units o ON o.source = x.owner_source AND o.external_id = x.owner_external_id
ON CONFLICT (source, external_id) DO NOTHING
RETURNING id, source, external_id
