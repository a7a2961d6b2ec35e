-- The newest version of a model in each stage (registered models' `latest_versions`) by index.
CREATE INDEX mlflow_versions_stage ON mlflow_versions (name, stage, version DESC);
