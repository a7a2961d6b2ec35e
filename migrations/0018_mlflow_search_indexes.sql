-- The MLflow searches' filters and orders served by indexes (issue 18): versions by run
-- (`run_id = …` / `IN`, as tools look a run's models up) and by source (`source_path = …`; a hash
-- index, since sources may be longer than a b-tree entry allows), and both searches ordered by
-- their timestamps without sorting every row.
CREATE INDEX mlflow_versions_run ON mlflow_versions (run_id) WHERE run_id <> '';
CREATE INDEX mlflow_versions_source ON mlflow_versions USING hash (source);
CREATE INDEX mlflow_versions_updated ON mlflow_versions (updated_ms, name, version);
CREATE INDEX mlflow_versions_created ON mlflow_versions (created_ms, name, version);
CREATE INDEX mlflow_models_updated ON mlflow_models (updated_ms, name);
CREATE INDEX mlflow_models_created ON mlflow_models (created_ms, name);
