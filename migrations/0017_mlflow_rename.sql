-- Renaming a registered model (MLflow's registered-models/rename): its versions and aliases
-- follow the new name through their keys.
ALTER TABLE mlflow_versions DROP CONSTRAINT mlflow_versions_name_fkey;
ALTER TABLE mlflow_versions ADD CONSTRAINT mlflow_versions_name_fkey
    FOREIGN KEY (name) REFERENCES mlflow_models (name) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE mlflow_aliases DROP CONSTRAINT mlflow_aliases_version;
ALTER TABLE mlflow_aliases ADD CONSTRAINT mlflow_aliases_version
    FOREIGN KEY (name, version) REFERENCES mlflow_versions (name, version) ON DELETE CASCADE ON UPDATE CASCADE;
