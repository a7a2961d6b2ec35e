-- Registry operations in the history, and dashboard sessions.

-- A registry operation (register, create a deployment, promote, deploy, roll back, retire) is
-- one row of `changes` beside the asset and edge changes it made: subject 'operation', its
-- asset the model source (so the model's history shows it), related the deployment or binary.
ALTER TABLE changes DROP CONSTRAINT changes_subject_check;
ALTER TABLE changes ADD CONSTRAINT changes_subject_check
    CHECK (subject IN ('org_unit', 'asset', 'edge', 'measurement', 'operation'));
ALTER TABLE changes DROP CONSTRAINT changes_op_check;
ALTER TABLE changes ADD CONSTRAINT changes_op_check CHECK (op IN (
    'created', 'updated', 'deleted',
    'registered', 'deployment_created', 'promoted', 'deployed', 'rolled_back', 'retired'));

-- A signed-in dashboard session: made from a token, ends with it (revoking the token ends its
-- sessions), at sign-out, or when it expires. Only the cookie's SHA-256 is kept.
CREATE TABLE sessions (
    hash       bytea       PRIMARY KEY,
    token_id   bigint      NOT NULL REFERENCES api_tokens (id),
    -- The secret every change made through this session must carry (CSRF protection).
    csrf       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_token ON sessions (token_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
