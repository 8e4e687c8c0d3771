SELECT p.id, p.name, k.kind, k.key_prefix, k.created_at, k.expires_at
FROM projects p
LEFT JOIN api_keys k ON k.project_id = p.id
ORDER BY p.id, k.kind, k.created_at
