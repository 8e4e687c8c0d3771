"""`make bench`: every figure of the README's Performance table beside the floor it cannot beat, measured in the same run.

    python -m local.bench            # the full run (under 15 minutes), as `make bench`
    python -m local.bench --quick    # smaller sizes and shorter loads (under 2 minutes)

It starts what it measures (embedded PostgreSQL and Redis, or a scratch database and Redis
namespace on the configured ones), serves the functions exactly as `make run` does
(local.stack), drives them with wrk or the built-in generator, prints a table and writes it
as JSON under .local/bench/.
"""
