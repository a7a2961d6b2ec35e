-- Exemptions (issue 17): accepted risk for one model source and one domain or metric, with a
-- reason, who asked, who approved (an admin) and an expiry. An exempt result keeps its level and
-- evidence; the rollups count it as exempt instead of at its level. Every request, approval,
-- renewal, revocation and expiry is a row of `changes` (subject 'operation', the model source's
-- history), and gate overrides are recorded in the operation they let through.

CREATE TABLE exemptions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id     bigint      NOT NULL REFERENCES assets (id),
    scope        text        NOT NULL CHECK (scope LIKE 'domain:%' OR scope LIKE 'metric:%'),
    reason       text        NOT NULL,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    approved_by  text,
    approved_at  timestamptz,
    expires_at   timestamptz NOT NULL,
    revoked_by   text,
    revoked_at   timestamptz,
    -- Set by the recompute that first finds it expired, which records the expiry in the history.
    expiry_recorded boolean NOT NULL DEFAULT false
);

CREATE INDEX exemptions_model ON exemptions (model_id, scope);
-- The exemptions that apply (or will once approved), for the rollups and the gates.
CREATE INDEX exemptions_open ON exemptions (expires_at) WHERE revoked_at IS NULL;

ALTER TABLE changes DROP CONSTRAINT changes_op_check;
ALTER TABLE changes ADD CONSTRAINT changes_op_check CHECK (op IN (
    'created', 'updated', 'deleted',
    'registered', 'deployment_created', 'promoted', 'deployed', 'rolled_back', 'retired',
    'exemption_requested', 'exemption_approved', 'exemption_renewed', 'exemption_revoked',
    'exemption_expired', 'gate_overridden'));

-- Per unit and scope, the models counted as exempt (NULL in rows older than exemptions: none).
ALTER TABLE unit_rollups ADD COLUMN exempt integer[];
