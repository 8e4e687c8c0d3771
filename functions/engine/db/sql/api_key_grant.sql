-- The valid key with this hash: (id, project, kind), for the erasure route's own check.
SELECT id, project_id, kind
FROM api_keys
WHERE key_hash = :key_hash AND (expires_at IS NULL OR expires_at > now())
