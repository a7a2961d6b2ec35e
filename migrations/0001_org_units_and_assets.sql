-- The org tree and the assets of the metadata graph. Every record has an external key
-- (source system, external id) that makes writes idempotent.

CREATE TABLE org_units (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text        NOT NULL,
    external_id text        NOT NULL,
    name        text        NOT NULL,
    parent_id   bigint      REFERENCES org_units (id),
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT org_units_external_key UNIQUE (source, external_id),
    CONSTRAINT org_units_not_own_parent CHECK (parent_id <> id),
    CONSTRAINT org_units_name_present CHECK (btrim(name) <> '')
);

CREATE INDEX org_units_parent ON org_units (parent_id);

CREATE TYPE asset_kind AS ENUM (
    'feature_source',
    'logical_feature',
    'dataset',
    'model_source',
    'workflow_run',
    'model_binary',
    'deployment'
);

CREATE TABLE assets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text        NOT NULL,
    external_id   text        NOT NULL,
    kind          asset_kind  NOT NULL,
    -- The tool's own label for the record as it was received, when it came with one.
    label         text,
    name          text        NOT NULL,
    description   text        NOT NULL DEFAULT '',
    owner_unit_id bigint      REFERENCES org_units (id),
    owners        text[]      NOT NULL DEFAULT '{}',
    tags          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assets_external_key UNIQUE (source, external_id),
    CONSTRAINT assets_name_present CHECK (btrim(name) <> ''),
    CONSTRAINT assets_tags_object CHECK (jsonb_typeof(tags) = 'object')
);

CREATE INDEX assets_owner_kind ON assets (owner_unit_id, kind);
