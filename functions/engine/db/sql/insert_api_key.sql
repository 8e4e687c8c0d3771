INSERT INTO api_keys (project_id, kind, key_hash, key_prefix)
VALUES (:project_id, :kind, :key_hash, :key_prefix)
ON CONFLICT (key_hash) DO NOTHING
