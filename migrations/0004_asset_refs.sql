-- The external keys of assets as the wire's references ({"source", "id"}), in id order: what
-- evidence and exports show for the binaries a model source was judged on.
CREATE FUNCTION asset_refs(ids bigint[]) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('source', a.source, 'id', a.external_id) ORDER BY a.id), '[]'::jsonb)
    FROM assets a
    WHERE a.id = ANY(ids)
$$;
