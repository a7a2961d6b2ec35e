-- Metric results, kept over time: one snapshot per recompute, with the catalog it used, every
-- model source's levels, and every org unit's rollups. Pages read these; nothing aggregates raw
-- history on request.

CREATE TABLE metric_snapshots (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    computed_at     timestamptz NOT NULL DEFAULT now(),
    catalog_version text        NOT NULL,
    -- The catalog used, in full: it says what each position of the result arrays means.
    catalog         jsonb       NOT NULL,
    models          integer     NOT NULL DEFAULT 0,
    duration_ms     integer     NOT NULL DEFAULT 0
);

CREATE INDEX metric_snapshots_time ON metric_snapshots (computed_at);

-- One row per model source and snapshot; arrays follow the catalog's order of metrics and domains.
CREATE TABLE model_results (
    snapshot_id     bigint     NOT NULL REFERENCES metric_snapshots (id) ON DELETE CASCADE,
    model_id        bigint     NOT NULL,
    owner_unit_id   bigint,
    -- 'production', 'newest_binary' (nothing in production) or 'no_binary'.
    judged_on       text       NOT NULL,
    judged_binaries bigint[]   NOT NULL,
    metric_values   float8[]   NOT NULL,
    metric_levels   smallint[] NOT NULL,
    domain_levels   smallint[] NOT NULL,
    overall_level   smallint,
    CONSTRAINT model_results_pkey PRIMARY KEY (snapshot_id, model_id)
);

CREATE INDEX model_results_owner ON model_results (snapshot_id, owner_unit_id);

-- Per org unit (0: the models no unit owns) and scope ('metric:<id>', 'domain:<id>', 'overall'):
-- how many of the models it owns, itself and below, sit at each level, and their mean level.
CREATE TABLE unit_rollups (
    snapshot_id bigint  NOT NULL REFERENCES metric_snapshots (id) ON DELETE CASCADE,
    unit_id     bigint  NOT NULL,
    scope       text    NOT NULL,
    level0      integer NOT NULL,
    level1      integer NOT NULL,
    level2      integer NOT NULL,
    level3      integer NOT NULL,
    unknown     integer NOT NULL,
    score       float8,
    CONSTRAINT unit_rollups_pkey PRIMARY KEY (snapshot_id, unit_id, scope)
);

CREATE INDEX unit_rollups_scope ON unit_rollups (snapshot_id, scope);
