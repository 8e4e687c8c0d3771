-- Every key that opens something now or later (expiry is checked at each use).
SELECT key_hash, project_id, kind, expires_at
FROM api_keys
WHERE expires_at IS NULL OR expires_at > now()
