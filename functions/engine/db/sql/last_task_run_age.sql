-- Seconds since the last recorded run of a task finished (the scheduler's health check).
SELECT extract(epoch FROM now() - max(finished_at))::float8 FROM task_runs WHERE task = :task
