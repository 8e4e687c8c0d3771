INSERT INTO task_runs (task, status, started_at, finished_at, seconds, read, inserted, duplicates,
                       dead_lettered, reclaimed, backlog, oldest_undrained_age_seconds, details)
VALUES (:task, :status, :started_at, :finished_at, :seconds, :read, :inserted, :duplicates,
        :dead_lettered, :reclaimed, :backlog, :oldest_age, CAST(:details AS jsonb))
