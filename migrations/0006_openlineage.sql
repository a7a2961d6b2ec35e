-- OpenLineage RunEvents as received (issue: interoperability). A run's status and times are
-- derived from all of its events, so that events arriving twice or out of order leave the same
-- graph; the events also feed the ingestion page's "last events per source".

CREATE TABLE lineage_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id        text        NOT NULL,
    -- START, RUNNING, COMPLETE, ABORT, FAIL or OTHER.
    event_type    text        NOT NULL,
    event_time    timestamptz NOT NULL,
    job_namespace text        NOT NULL,
    job_name      text        NOT NULL,
    -- The event as sent, facets included (those modelgov does not read are kept here).
    event         jsonb       NOT NULL,
    actor         text        NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT lineage_events_type CHECK (
        event_type IN ('START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER')),
    -- The same event sent again is the same row.
    CONSTRAINT lineage_events_once UNIQUE (run_id, event_type, event_time)
);

CREATE INDEX lineage_events_received ON lineage_events (received_at);

-- What OpenLineage's labels mean: the job is the training pipeline (its code, a model source),
-- inputs are datasets and outputs model binaries, unless a dataset type facet says otherwise.
INSERT INTO label_mappings (source, label, kind) VALUES
    ('openlineage', 'JOB', 'model_source'),
    ('openlineage', 'INPUT', 'dataset'),
    ('openlineage', 'OUTPUT', 'model_binary'),
    ('openlineage', 'TABLE', 'dataset'),
    ('openlineage', 'VIEW', 'dataset'),
    ('openlineage', 'FILE', 'dataset'),
    ('openlineage', 'TOPIC', 'dataset'),
    ('openlineage', 'STREAM', 'dataset'),
    ('openlineage', 'MODEL', 'model_binary')
ON CONFLICT DO NOTHING;
