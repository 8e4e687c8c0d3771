DELETE FROM task_runs WHERE finished_at < :cutoff
