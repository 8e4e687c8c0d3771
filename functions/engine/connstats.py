"""The edge's connection counts: open connections and connections closed by each bound, per server.

A table in anonymous shared memory, made when this module is first imported. The edge's
server (runtime/edge/) imports it in gunicorn's master, before the workers fork, so every
worker of one listener shares the table: each claims a row of its own and writes only that
row (one writer per row, no lock on the hot path), and any worker's /internal/metrics sums the
rows. A row of a worker that died is taken over by its replacement: its closed counts carry
on (they are counters), its open count starts again at 0 (its connections died with it).
"""

from __future__ import annotations

import mmap
import multiprocessing
import os

# Why a connection was closed by the server, in the order of the table's columns.
BOUNDS = ("header_timeout", "body_timeout", "idle_timeout", "connection_limit")
_COLUMNS = ("pid", "open", *BOUNDS)
ROWS = 64
_table = memoryview(mmap.mmap(-1, ROWS * len(_COLUMNS) * 8)).cast("q")
_claim_lock = multiprocessing.Lock()
_row: int | None = None


def _at(row: int, column: str) -> int:
    return row * len(_COLUMNS) + _COLUMNS.index(column)


def _alive(pid: int) -> bool:
    """Signal 0 tests for a process without touching it; EPERM still means it exists."""
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except ProcessLookupError:
        return False


def claim() -> int:
    """This process's row: its own if it has one, else a free one or one whose process has died."""
    global _row
    pid = os.getpid()
    if _row is not None and _table[_at(_row, "pid")] == pid:
        return _row
    with _claim_lock:
        for row in range(ROWS):
            owner = _table[_at(row, "pid")]
            if owner == 0 or owner == pid or not _alive(owner):
                _table[_at(row, "pid")] = pid
                _table[_at(row, "open")] = 0
                _row = row
                return row
    raise RuntimeError(f"more than {ROWS} server processes share one connection table")


def opened() -> None:
    _table[_at(claim(), "open")] += 1


def closed() -> None:
    """A connection ended, for whatever reason."""
    _table[_at(claim(), "open")] -= 1


def closed_by(bound: str) -> None:
    """Count a connection the server closed because it passed a bound (one of BOUNDS)."""
    _table[_at(claim(), bound)] += 1


def totals() -> dict[str, int]:
    """Open connections of the live processes, and every closed count, summed over the table."""
    sums = dict.fromkeys(("open", *BOUNDS), 0)
    for row in range(ROWS):
        owner = _table[_at(row, "pid")]
        if owner == 0:
            continue
        if _alive(owner):
            sums["open"] += _table[_at(row, "open")]
        for bound in BOUNDS:
            sums[bound] += _table[_at(row, bound)]
    return sums
