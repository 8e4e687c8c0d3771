"""Drive a load with the generator asked for: wrk, or the built-in one."""

from __future__ import annotations

from local.bench import loadgen, wrk
from local.bench.load import Load, LoadResult


def run_load(load: Load, generator: str) -> LoadResult:
    """Drive load with "wrk" or "builtin"."""
    return wrk.run(load) if generator == "wrk" else loadgen.run(load)
