INSERT INTO erasures (project_id, requested_by, requested_at, finished_at, salt, subject_hash, subject_hashes, counts)
VALUES (:project_id, :requested_by, CAST(:requested_at AS timestamptz), CAST(:finished_at AS timestamptz), :salt, :subject_hash,
        CAST(:subject_hashes AS bytea[]), CAST(:counts AS jsonb))
RETURNING id
