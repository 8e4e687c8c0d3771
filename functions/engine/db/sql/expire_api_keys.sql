-- Rotation: the keys of one kind a project has now stop working at :expires_at.
UPDATE api_keys
SET expires_at = :expires_at
WHERE project_id = :project_id AND kind = :kind
  AND (expires_at IS NULL OR expires_at > :expires_at)
