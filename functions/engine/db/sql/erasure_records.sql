-- Every erasure of a project, oldest first (salts and hashes: checked in Python, engine/core/erasure.py).
SELECT id, requested_by, requested_at, salt, subject_hashes, counts FROM erasures WHERE project_id = :project_id ORDER BY id
