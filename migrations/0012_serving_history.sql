-- Serving history, made safe for registry operations.
--
-- Serving periods start and end at the time of the statement that moved the deployment, not
-- at the start of its transaction: a transaction that waited for a deployment's lock while
-- another moved it starts its period after that one and closes it, instead of leaving two
-- open periods (which the unique index refused as an error). And a period that a rollback
-- started is marked, so that rolling back again goes further back (a stack), instead of
-- returning to the binary just rolled away from.

ALTER TABLE serving_periods ADD COLUMN rolled_back boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION record_edge_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO changes (actor, subject, op, asset_id, related_id, after)
        SELECT modelgov_actor(), 'edge', 'created', n.to_id, n.from_id, to_jsonb(n) - 'created_at'
        FROM new_rows n;
        INSERT INTO serving_periods (deployment_id, binary_id, since)
        SELECT n.to_id, n.from_id, statement_timestamp() FROM new_rows n WHERE n.to_kind = 'deployment'
        ON CONFLICT (deployment_id, since) DO UPDATE SET binary_id = EXCLUDED.binary_id, until = NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO changes (actor, subject, op, asset_id, related_id, before, after)
        SELECT modelgov_actor(), 'edge', 'updated', n.to_id, n.from_id,
               to_jsonb(o) - 'created_at', to_jsonb(n) - 'created_at'
        FROM new_rows n JOIN old_rows o ON o.to_id = n.to_id AND o.from_kind = n.from_kind
        WHERE o.from_id <> n.from_id;
        UPDATE serving_periods p SET until = statement_timestamp()
        FROM new_rows n
        WHERE n.to_kind = 'deployment' AND p.deployment_id = n.to_id AND p.until IS NULL
          AND p.since < statement_timestamp();
        INSERT INTO serving_periods (deployment_id, binary_id, since)
        SELECT n.to_id, n.from_id, statement_timestamp() FROM new_rows n WHERE n.to_kind = 'deployment'
        ON CONFLICT (deployment_id, since) DO UPDATE SET binary_id = EXCLUDED.binary_id, until = NULL;
    ELSE
        INSERT INTO changes (actor, subject, op, asset_id, related_id, before)
        SELECT modelgov_actor(), 'edge', 'deleted', o.to_id, o.from_id, to_jsonb(o) - 'created_at'
        FROM old_rows o;
        UPDATE serving_periods p SET until = statement_timestamp()
        FROM old_rows o
        WHERE o.to_kind = 'deployment' AND p.deployment_id = o.to_id AND p.until IS NULL;
    END IF;
    RETURN NULL;
END $$;
