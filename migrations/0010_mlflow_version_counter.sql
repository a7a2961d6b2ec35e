-- Version numbers are never given twice for a model, also after its newest version is deleted
-- (the graph keeps that version's binary and the run that produced it).
ALTER TABLE mlflow_models ADD COLUMN next_version integer NOT NULL DEFAULT 1;
UPDATE mlflow_models m
SET next_version = coalesce((SELECT max(version) FROM mlflow_versions v WHERE v.name = m.name), 0) + 1;
