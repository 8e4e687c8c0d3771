"""The analytics engine's library: everything the four functions are built from.

Pure modules (schemas, validation, enrich, metric_logic, copyfmt) import no I/O library;
`streams` owns Redis, `db` owns PostgreSQL, and `web` owns the HTTP details.
"""
