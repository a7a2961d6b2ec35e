-- The MLflow model registry's own state (issue: interoperability), for the MLflow-compatible API
-- under /api/2.0/mlflow/. Every write there is mirrored into the graph in the same transaction:
-- registered models are model sources, versions model binaries (with the run that produced
-- them), and the Staging and Production stages deployments (source 'mlflow').

CREATE TABLE mlflow_models (
    name        text    PRIMARY KEY,
    description text    NOT NULL DEFAULT '',
    -- key -> value, as MLflow's tags.
    tags        jsonb   NOT NULL DEFAULT '{}',
    created_ms  bigint  NOT NULL,
    updated_ms  bigint  NOT NULL,
    CONSTRAINT mlflow_models_tags_object CHECK (jsonb_typeof(tags) = 'object')
);

-- Prefix searches (name LIKE 'abc%').
CREATE INDEX mlflow_models_name_prefix ON mlflow_models (name text_pattern_ops);

CREATE TABLE mlflow_versions (
    name        text    NOT NULL REFERENCES mlflow_models (name) ON DELETE CASCADE,
    version     integer NOT NULL,
    source      text    NOT NULL DEFAULT '',
    run_id      text    NOT NULL DEFAULT '',
    run_link    text    NOT NULL DEFAULT '',
    description text    NOT NULL DEFAULT '',
    -- None, Staging, Production or Archived.
    stage       text    NOT NULL DEFAULT 'None',
    tags        jsonb   NOT NULL DEFAULT '{}',
    created_ms  bigint  NOT NULL,
    updated_ms  bigint  NOT NULL,
    CONSTRAINT mlflow_versions_pkey PRIMARY KEY (name, version),
    CONSTRAINT mlflow_versions_stage CHECK (stage IN ('None', 'Staging', 'Production', 'Archived')),
    CONSTRAINT mlflow_versions_tags_object CHECK (jsonb_typeof(tags) = 'object')
);

CREATE TABLE mlflow_aliases (
    name    text    NOT NULL,
    alias   text    NOT NULL,
    version integer NOT NULL,
    CONSTRAINT mlflow_aliases_pkey PRIMARY KEY (name, alias),
    CONSTRAINT mlflow_aliases_version FOREIGN KEY (name, version)
        REFERENCES mlflow_versions (name, version) ON DELETE CASCADE
);
