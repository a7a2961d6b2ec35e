-- Records the graph refused, with the reason, for the ingestion page (issue: interoperability).
-- The newest 10,000 are kept.
CREATE TABLE rejections (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Where it came from: the record's source system when it could be read, else the endpoint.
    source      text        NOT NULL,
    external_id text        NOT NULL DEFAULT '',
    -- The record as sent when it could be read, else null.
    record      jsonb,
    reason      text        NOT NULL,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
