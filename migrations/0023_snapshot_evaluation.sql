-- How each snapshot judged: a full recompute that read every fact from the graph ('full'), one
-- that read only what the graph's changes reached and aged every other result by the clock
-- ('aged'), or an incremental one. A full recompute ages only when the previous snapshot judged
-- with the same catalog and the same evaluation (`evaluation`: a digest of the statements that
-- judge, so that a release that judges differently reads everything from the graph once), and
-- when everything was read from the graph within the last day.
ALTER TABLE metric_snapshots DROP CONSTRAINT metric_snapshots_kind_check;
ALTER TABLE metric_snapshots
    ADD CONSTRAINT metric_snapshots_kind_check CHECK (kind IN ('full', 'incremental', 'aged')),
    ADD COLUMN evaluation text;
