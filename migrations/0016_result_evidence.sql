-- What decided each result, by id (issue 15: evidence a person can follow): the runs that
-- produced the judged binaries, the datasets they read, the model source's last five finished
-- runs, and the newest report of each measurement read. Kept with the result, so that a result
-- as of a past snapshot shows what decided it then. See `model::evidence::EvidenceIds`.
ALTER TABLE model_results ADD COLUMN evidence jsonb NOT NULL DEFAULT '{}';
