-- Where a binary served, and a model's serving history (the asset and model pages), find their
-- periods by binary; until now only by deployment.
CREATE INDEX serving_periods_binary ON serving_periods (binary_id, since);
