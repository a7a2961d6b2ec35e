-- Campaigns (issue 17): a goal in the catalog's terms (a scope and a minimum level) over a
-- selection of model sources (org units and everything below them, tags, a deployment status),
-- with a start, a deadline and an owner. Each recompute records, for every open campaign, how
-- many selected models meet the goal (a burn-down point of its snapshot); a closed campaign
-- keeps its final figures.

CREATE TABLE campaigns (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text        NOT NULL,
    -- 'overall', 'domain:<id>' or 'metric:<id>'.
    scope             text        NOT NULL,
    min_level         smallint    NOT NULL CHECK (min_level BETWEEN 0 AND 3),
    -- The org units whose models (theirs and below) are selected; empty: the whole company.
    unit_ids          bigint[]    NOT NULL DEFAULT '{}',
    -- Tags every selected model source carries (key to value).
    tags              jsonb       NOT NULL DEFAULT '{}',
    -- Selected model sources have a deployment in this status now; NULL: any.
    deployment_status text,
    starts_at         timestamptz NOT NULL,
    deadline          timestamptz NOT NULL CHECK (deadline > starts_at),
    owner             text        NOT NULL,
    created_by        text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    closed_by         text,
    closed_at         timestamptz,
    -- The figures when it was closed (met, exempt, total, short models).
    final             jsonb
);

-- One point of a campaign's burn-down per snapshot while it is open (thinning snapshots thins
-- the points with them: the last of each day stays).
CREATE TABLE campaign_points (
    campaign_id bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    snapshot_id bigint      NOT NULL REFERENCES metric_snapshots (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    met         integer     NOT NULL,
    exempt      integer     NOT NULL,
    total       integer     NOT NULL,
    PRIMARY KEY (campaign_id, snapshot_id)
);

ALTER TABLE changes DROP CONSTRAINT changes_op_check;
ALTER TABLE changes ADD CONSTRAINT changes_op_check CHECK (op IN (
    'created', 'updated', 'deleted',
    'registered', 'deployment_created', 'promoted', 'deployed', 'rolled_back', 'retired',
    'exemption_requested', 'exemption_approved', 'exemption_renewed', 'exemption_revoked',
    'exemption_expired', 'gate_overridden', 'campaign_created', 'campaign_closed'));
