DELETE FROM event_ids WHERE received_at < :cutoff
