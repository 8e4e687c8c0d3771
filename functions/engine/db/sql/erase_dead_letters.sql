DELETE FROM dead_letters WHERE id = ANY (CAST(:ids AS bigint[]))
