-- The lineage graph: statuses and times on assets, edges with the cardinality rules of DESIGN.md
-- section 1, measurements, the history of every change, serving periods for "as of" reads, label
-- mappings with their quarantine, API tokens, and the indexes search needs.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Org units: the tree may be any depth but never a cycle.
CREATE FUNCTION org_units_refuse_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND EXISTS (
        WITH RECURSIVE up(id, parent_id) AS (
            SELECT id, parent_id FROM org_units WHERE id = NEW.parent_id
            UNION
            SELECT o.id, o.parent_id FROM org_units o JOIN up ON o.id = up.parent_id
        )
        SELECT 1 FROM up WHERE id = NEW.id
    ) THEN
        RAISE EXCEPTION 'org unit % would become its own ancestor', NEW.id
            USING ERRCODE = '23514', CONSTRAINT = 'org_units_no_cycle';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER org_units_no_cycle
    BEFORE UPDATE OF parent_id ON org_units
    FOR EACH ROW EXECUTE FUNCTION org_units_refuse_cycle();

-- Assets: statuses by kind, times of workflow runs.
ALTER TABLE assets
    ADD COLUMN status     text,
    ADD COLUMN started_at timestamptz,
    ADD COLUMN ended_at   timestamptz,
    ADD COLUMN search_text text GENERATED ALWAYS AS (lower(name || ' ' || description)) STORED,
    ADD CONSTRAINT assets_id_kind UNIQUE (id, kind),
    ADD CONSTRAINT assets_status_by_kind CHECK (
        CASE kind
            WHEN 'deployment' THEN status IN ('development', 'staging', 'production', 'retired')
            WHEN 'workflow_run' THEN status IS NULL OR status IN ('running', 'succeeded', 'failed', 'aborted')
            ELSE status IS NULL
        END),
    ADD CONSTRAINT assets_times_only_for_runs CHECK (
        kind = 'workflow_run' OR (started_at IS NULL AND ended_at IS NULL)),
    ADD CONSTRAINT assets_times_ordered CHECK (
        started_at IS NULL OR ended_at IS NULL OR ended_at >= started_at);

CREATE INDEX assets_search_trgm ON assets USING gin (search_text gin_trgm_ops);
CREATE INDEX assets_tags ON assets USING gin (tags jsonb_path_ops);
CREATE INDEX assets_kind ON assets (kind, id);

-- Edges: the kinds at the ends give an edge its meaning; only the connections of DESIGN.md exist.
CREATE TABLE edges (
    from_id    bigint      NOT NULL,
    from_kind  asset_kind  NOT NULL,
    to_id      bigint      NOT NULL,
    to_kind    asset_kind  NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT edges_pkey PRIMARY KEY (from_id, to_id),
    CONSTRAINT edges_from FOREIGN KEY (from_id, from_kind) REFERENCES assets (id, kind),
    CONSTRAINT edges_to FOREIGN KEY (to_id, to_kind) REFERENCES assets (id, kind),
    CONSTRAINT edges_kind_rule CHECK ((from_kind, to_kind) IN (
        ('feature_source', 'logical_feature'),
        ('logical_feature', 'dataset'),
        ('dataset', 'workflow_run'),
        ('model_source', 'workflow_run'),
        ('workflow_run', 'model_binary'),
        ('model_binary', 'deployment')))
);

CREATE INDEX edges_to_id ON edges (to_id);
-- The "exactly one" ends of DESIGN.md section 1.
CREATE UNIQUE INDEX edges_one_feature_source_per_logical_feature ON edges (to_id) WHERE to_kind = 'logical_feature';
CREATE UNIQUE INDEX edges_one_model_source_per_workflow_run ON edges (to_id) WHERE from_kind = 'model_source';
CREATE UNIQUE INDEX edges_one_workflow_run_per_model_binary ON edges (to_id) WHERE to_kind = 'model_binary';
CREATE UNIQUE INDEX edges_one_model_binary_per_deployment ON edges (to_id) WHERE to_kind = 'deployment';

-- Reported measurements of an asset (a fairness gap, the energy of a training run, ...).
CREATE TABLE measurements (
    asset_id    bigint           NOT NULL REFERENCES assets (id),
    name        text             NOT NULL,
    at          timestamptz      NOT NULL,
    value       double precision NOT NULL,
    received_at timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT measurements_pkey PRIMARY KEY (asset_id, name, at),
    CONSTRAINT measurements_value_finite CHECK (value = value AND value NOT IN ('Infinity', '-Infinity'))
);

-- Every change to the graph: who (token or source), when, before and after.
CREATE TABLE changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text        NOT NULL,
    subject    text        NOT NULL CHECK (subject IN ('org_unit', 'asset', 'edge', 'measurement')),
    op         text        NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
    -- The asset (for an edge: its `to` end) or org unit the change belongs to.
    asset_id    bigint,
    org_unit_id bigint,
    -- For an edge: its `from` end, so the change shows in both ends' history.
    related_id  bigint,
    before     jsonb,
    after      jsonb
);

CREATE INDEX changes_asset ON changes (asset_id, id) WHERE asset_id IS NOT NULL;
CREATE INDEX changes_related ON changes (related_id, id) WHERE related_id IS NOT NULL;
CREATE INDEX changes_org_unit ON changes (org_unit_id, id) WHERE org_unit_id IS NOT NULL;

CREATE FUNCTION modelgov_actor() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('modelgov.actor', true), ''), 'system')
$$;

-- Statement-level triggers: one set-based insert into `changes` per write statement.
CREATE FUNCTION record_asset_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO changes (actor, subject, op, asset_id, after)
        SELECT modelgov_actor(), 'asset', 'created', n.id,
               to_jsonb(n) - 'created_at' - 'updated_at' - 'search_text'
        FROM new_rows n;
    ELSE
        INSERT INTO changes (actor, subject, op, asset_id, before, after)
        SELECT modelgov_actor(), 'asset', 'updated', n.id,
               to_jsonb(o) - 'created_at' - 'updated_at' - 'search_text',
               to_jsonb(n) - 'created_at' - 'updated_at' - 'search_text'
        FROM new_rows n JOIN old_rows o ON o.id = n.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER assets_changes_insert AFTER INSERT ON assets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_asset_changes();
CREATE TRIGGER assets_changes_update AFTER UPDATE ON assets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_asset_changes();

CREATE FUNCTION record_org_unit_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO changes (actor, subject, op, org_unit_id, after)
        SELECT modelgov_actor(), 'org_unit', 'created', n.id, to_jsonb(n) - 'created_at' - 'updated_at'
        FROM new_rows n;
    ELSE
        INSERT INTO changes (actor, subject, op, org_unit_id, before, after)
        SELECT modelgov_actor(), 'org_unit', 'updated', n.id,
               to_jsonb(o) - 'created_at' - 'updated_at', to_jsonb(n) - 'created_at' - 'updated_at'
        FROM new_rows n JOIN old_rows o ON o.id = n.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER org_units_changes_insert AFTER INSERT ON org_units
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_org_unit_changes();
CREATE TRIGGER org_units_changes_update AFTER UPDATE ON org_units
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_org_unit_changes();

-- Which binary each deployment served, and when: the history behind "as of" reads.
CREATE TABLE serving_periods (
    deployment_id bigint      NOT NULL REFERENCES assets (id),
    binary_id     bigint      NOT NULL REFERENCES assets (id),
    since         timestamptz NOT NULL,
    until         timestamptz,
    CONSTRAINT serving_periods_pkey PRIMARY KEY (deployment_id, since),
    CONSTRAINT serving_periods_ordered CHECK (until IS NULL OR until >= since)
);

CREATE UNIQUE INDEX serving_periods_open ON serving_periods (deployment_id) WHERE until IS NULL;

CREATE FUNCTION record_edge_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO changes (actor, subject, op, asset_id, related_id, after)
        SELECT modelgov_actor(), 'edge', 'created', n.to_id, n.from_id, to_jsonb(n) - 'created_at'
        FROM new_rows n;
        INSERT INTO serving_periods (deployment_id, binary_id, since)
        SELECT n.to_id, n.from_id, now() FROM new_rows n WHERE n.to_kind = 'deployment'
        ON CONFLICT (deployment_id, since) DO UPDATE SET binary_id = EXCLUDED.binary_id, until = NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO changes (actor, subject, op, asset_id, related_id, before, after)
        SELECT modelgov_actor(), 'edge', 'updated', n.to_id, n.from_id,
               to_jsonb(o) - 'created_at', to_jsonb(n) - 'created_at'
        FROM new_rows n JOIN old_rows o ON o.to_id = n.to_id AND o.from_kind = n.from_kind
        WHERE o.from_id <> n.from_id;
        UPDATE serving_periods p SET until = now()
        FROM new_rows n
        WHERE n.to_kind = 'deployment' AND p.deployment_id = n.to_id AND p.until IS NULL
          AND p.since < now();
        INSERT INTO serving_periods (deployment_id, binary_id, since)
        SELECT n.to_id, n.from_id, now() FROM new_rows n WHERE n.to_kind = 'deployment'
        ON CONFLICT (deployment_id, since) DO UPDATE SET binary_id = EXCLUDED.binary_id, until = NULL;
    ELSE
        INSERT INTO changes (actor, subject, op, asset_id, related_id, before)
        SELECT modelgov_actor(), 'edge', 'deleted', o.to_id, o.from_id, to_jsonb(o) - 'created_at'
        FROM old_rows o;
        UPDATE serving_periods p SET until = now()
        FROM old_rows o
        WHERE o.to_kind = 'deployment' AND p.deployment_id = o.to_id AND p.until IS NULL;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER edges_changes_insert AFTER INSERT ON edges
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_edge_changes();
CREATE TRIGGER edges_changes_update AFTER UPDATE ON edges
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_edge_changes();
CREATE TRIGGER edges_changes_delete AFTER DELETE ON edges
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_edge_changes();

CREATE FUNCTION record_measurement_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO changes (actor, subject, op, asset_id, after)
        SELECT modelgov_actor(), 'measurement', 'created', n.asset_id, to_jsonb(n) - 'received_at'
        FROM new_rows n;
    ELSE
        INSERT INTO changes (actor, subject, op, asset_id, before, after)
        SELECT modelgov_actor(), 'measurement', 'updated', n.asset_id,
               to_jsonb(o) - 'received_at', to_jsonb(n) - 'received_at'
        FROM new_rows n JOIN old_rows o USING (asset_id, name, at);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER measurements_changes_insert AFTER INSERT ON measurements
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_measurement_changes();
CREATE TRIGGER measurements_changes_update AFTER UPDATE ON measurements
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_measurement_changes();

-- One vocabulary over many tools: (source system, the tool's label) -> canonical kind.
CREATE TABLE label_mappings (
    source     text        NOT NULL,
    label      text        NOT NULL,
    kind       asset_kind  NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT label_mappings_pkey PRIMARY KEY (source, label)
);

INSERT INTO label_mappings (source, label, kind) VALUES
    ('mlflow', 'Registered Model', 'model_source'),
    ('mlflow', 'Model Version', 'model_binary'),
    ('mlflow', 'Run', 'workflow_run'),
    ('mlflow', 'Dataset', 'dataset'),
    ('airflow', 'DAG Run', 'workflow_run'),
    ('feast', 'Data Source', 'feature_source'),
    ('feast', 'Feature View', 'logical_feature'),
    ('feast', 'Feature Service', 'dataset'),
    ('sagemaker', 'Model', 'model_binary'),
    ('sagemaker', 'Endpoint', 'deployment'),
    ('git', 'Model', 'model_source');

-- Records whose label has no mapping yet: kept whole, applied once a mapping exists.
CREATE TABLE quarantine (
    source      text        NOT NULL,
    external_id text        NOT NULL,
    label       text        NOT NULL,
    record      jsonb       NOT NULL,
    actor       text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT quarantine_pkey PRIMARY KEY (source, external_id)
);

CREATE INDEX quarantine_label ON quarantine (source, label);

-- API tokens: only a SHA-256 of each is stored; the token itself is shown once.
CREATE TYPE token_role AS ENUM ('viewer', 'editor', 'admin');

CREATE TABLE api_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL,
    role       token_role  NOT NULL,
    hash       bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CONSTRAINT api_tokens_hash UNIQUE (hash),
    CONSTRAINT api_tokens_name_present CHECK (btrim(name) <> '')
);

CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;
