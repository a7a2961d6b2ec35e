-- Snapshots that cost what changed, and recomputes that judge only what changed (issue 15).
--
-- A result row (of a model source or of an org unit) is no longer copied into every snapshot: it
-- holds from the snapshot that wrote it (`snapshot_id`) until the snapshot that replaced it
-- (`valid_to`, exclusive; the largest bigint while it still holds). The results of snapshot S are
-- the rows with snapshot_id <= S < valid_to. A recompute writes a row only where a result
-- changed, so a snapshot costs its own row plus one row per changed model and unit.
--
-- Thinning old snapshots keeps this true: a row written by a snapshot that goes is moved to the
-- next snapshot that stays when it still holds there, and goes with its snapshot otherwise.

ALTER TABLE metric_snapshots
    -- The newest row of `changes` this snapshot has judged: the next incremental recompute
    -- judges what changed after it.
    ADD COLUMN changes_through bigint,
    -- 'full' (every model source judged) or 'incremental' (only those a change could affect).
    ADD COLUMN kind text NOT NULL DEFAULT 'full' CHECK (kind IN ('full', 'incremental'));

ALTER TABLE model_results
    ADD COLUMN valid_to bigint NOT NULL DEFAULT 9223372036854775807,
    -- When the row was judged: ages in `metric_values` are as of this time, and a reader adds
    -- the time since (a row can hold for many snapshots).
    ADD COLUMN judged_at timestamptz;
UPDATE model_results r SET judged_at = s.computed_at FROM metric_snapshots s WHERE s.id = r.snapshot_id;
ALTER TABLE model_results ALTER COLUMN judged_at SET NOT NULL;

ALTER TABLE unit_rollups ADD COLUMN valid_to bigint NOT NULL DEFAULT 9223372036854775807;

-- The full copies written so far each hold until the next snapshot.
WITH next AS (
    SELECT id, lead(id) OVER (ORDER BY id) AS next_id FROM metric_snapshots
)
UPDATE model_results r SET valid_to = n.next_id
FROM next n WHERE n.id = r.snapshot_id AND n.next_id IS NOT NULL;
WITH next AS (
    SELECT id, lead(id) OVER (ORDER BY id) AS next_id FROM metric_snapshots
)
UPDATE unit_rollups r SET valid_to = n.next_id
FROM next n WHERE n.id = r.snapshot_id AND n.next_id IS NOT NULL;

-- Read by model or unit, then by the snapshot range.
ALTER TABLE model_results DROP CONSTRAINT model_results_pkey;
ALTER TABLE model_results ADD CONSTRAINT model_results_pkey PRIMARY KEY (model_id, snapshot_id);
DROP INDEX model_results_owner;
CREATE INDEX model_results_owner ON model_results (owner_unit_id, valid_to) INCLUDE (snapshot_id);
CREATE INDEX model_results_holding ON model_results (valid_to, snapshot_id);
CREATE INDEX model_results_written ON model_results (snapshot_id);

ALTER TABLE unit_rollups DROP CONSTRAINT unit_rollups_pkey;
ALTER TABLE unit_rollups ADD CONSTRAINT unit_rollups_pkey PRIMARY KEY (unit_id, snapshot_id);
CREATE INDEX unit_rollups_holding ON unit_rollups (valid_to, unit_id) INCLUDE (snapshot_id);
CREATE INDEX unit_rollups_written ON unit_rollups (snapshot_id);

-- Every write to the graph records its change under a shared lock, so that a recompute can take
-- the lock alone for a moment and know that every change up to the newest id it then reads has
-- committed: nothing below its mark can appear later.
CREATE FUNCTION changes_mark_writer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7246002);
    RETURN NULL;
END $$;

CREATE TRIGGER changes_mark_writer BEFORE INSERT ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION changes_mark_writer();
