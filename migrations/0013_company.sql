-- The company is fixed: the org unit named by MODELGOV_COMPANY (kept here by the server at
-- start), or else the first top-level unit written. A later top-level unit never takes its
-- place, whatever its size.
CREATE TABLE company (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    source      text    NOT NULL,
    external_id text    NOT NULL
);

CREATE FUNCTION modelgov_company() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT u.id FROM company c
         JOIN org_units u ON u.source = c.source AND u.external_id = c.external_id),
        (SELECT min(id) FROM org_units WHERE parent_id IS NULL)
    )
$$;
