-- Edges and measurements that name a record waiting in quarantine wait with it: when a mapping
-- applies the record, they apply after it, in the order they arrived.
CREATE TABLE quarantine_dependents (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The quarantined record this one waits for.
    source      text        NOT NULL,
    external_id text        NOT NULL,
    record      jsonb       NOT NULL,
    actor       text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX quarantine_dependents_waiting_for ON quarantine_dependents (source, external_id, id);
