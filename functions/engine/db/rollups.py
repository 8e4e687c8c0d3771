"""The rollup tables' upkeep in PostgreSQL: backfill chunks, retention, and recomputing them.

The drain keeps the rollups itself (writes.load_rows); what is here runs beside it: the backfill
of events stored before sql/009_rollups.sql, the deletion of old per-minute rows, and the
recomputation behind `make verify-aggregates`. The lock protocol is in sql/009_rollups.sql.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from engine.core.constants import LOCK_ROLLUP_BACKFILL
from engine.db.postgres import transaction
from engine.db.writes import apply_rollups, ensure_staging

# The per-minute tables (checked from the oldest retained raw minute on) and the all-time
# ones (checked only while no raw event has been dropped).
MINUTE_TABLES = ("rollup_minutes", "rollup_minute_users", "rollup_minute_elements")
# The per-UTC-hour, per-UTC-day and per-UTC-week tables (sql/011_day_presence.sql,
# sql/012_week_presence.sql, sql/013_element_hours.sql), by their time column: checked, and kept,
# by whole hours, days and weeks.
COARSE_TABLES = {
    "rollup_hour_actions": "hour",
    "rollup_hour_elements": "hour",
    "rollup_day_elements": "day",
    "rollup_day_action_users": "day",
    "rollup_day_actions": "day",
    "rollup_day_users": "day",
    "rollup_days": "day",
    "rollup_week_users": "week",
}
ALL_TIME_TABLES = (
    "rollup_totals",
    "rollup_users",
    "rollup_elements",
    "rollup_heatmap",
    "rollup_user_sessions",
    "rollup_element_users",
)

_BATCH_FROM_EVENTS = """
INSERT INTO rollup_batch (project_id, user_id, action, element, duration, "timestamp", session_id)
SELECT project_id, user_id, action, element, duration, "timestamp", session_id
FROM events
WHERE project_id = :project_id AND "timestamp" >= CAST(:low AS timestamptz) AND "timestamp" < CAST(:high AS timestamptz)
"""


@dataclasses.dataclass
class Chunk:
    """One backfill step: a project's events in [low, high), now counted."""

    project_id: int
    low: object
    high: object
    events: int


def pending_backfill(conn) -> list[tuple[int, object]]:
    """(project_id, counted_from) of every project whose older events are not counted yet."""
    return [(int(p), t) for p, t in conn.run("SELECT project_id, counted_from FROM rollup_backfill ORDER BY project_id")]


def _chunk_low(conn, project_id: int, high, chunk_events: int):
    """The timestamp that puts about chunk_events events in [low, high), or None for all the rest."""
    rows = conn.run(
        'SELECT "timestamp" FROM events WHERE project_id = :p AND "timestamp" < CAST(:high AS timestamptz) '
        'ORDER BY "timestamp" DESC OFFSET :n LIMIT 1',
        p=project_id,
        high=high,
        n=chunk_events,
    )
    return rows[0][0] if rows else None


def backfill_chunk(conn, project_id: int, chunk_events: int) -> Chunk | None:
    """Count the next chunk of a project's uncounted events, newest first; None when none is left.

    Under the exclusive lock no drain is between reading counted_from and committing, so the
    rows this chunk reads are exactly those no drain counted (sql/009_rollups.sql).
    """
    ensure_staging(conn)
    with transaction(conn):
        conn.run("SELECT pg_advisory_xact_lock(:key)", key=LOCK_ROLLUP_BACKFILL)
        rows = conn.run("SELECT counted_from FROM rollup_backfill WHERE project_id = :p", p=project_id)
        if not rows:
            return None
        high = rows[0][0]
        low = _chunk_low(conn, project_id, high, chunk_events)
        conn.run(_BATCH_FROM_EVENTS, project_id=project_id, low=low or "-infinity", high=high)
        events = max(conn.row_count, 0)
        if events:
            apply_rollups(conn)
        if low is None:
            conn.run("DELETE FROM rollup_backfill WHERE project_id = :p", p=project_id)
        else:
            conn.run("UPDATE rollup_backfill SET counted_from = :low WHERE project_id = :p", low=low, p=project_id)
    return Chunk(project_id, low, high, events)


def delete_old_minutes(conn, cutoff) -> int:
    """Delete per-minute rollup rows before cutoff, and the hour, day and week rows wholly before
    it (their own retention); rows deleted."""
    deleted = 0
    with transaction(conn):
        for table in MINUTE_TABLES:
            conn.run(f"DELETE FROM {table} WHERE minute < CAST(:cutoff AS timestamptz)", cutoff=cutoff)
            deleted += max(conn.row_count, 0)
        for table, column in COARSE_TABLES.items():
            conn.run(
                f"DELETE FROM {table} WHERE {column} < CAST(:first AS {_TYPES[column]})", first=_first_whole(column, cutoff, before=True)
            )
            deleted += max(conn.row_count, 0)
    return deleted


def mark_raw_dropped(conn, cutoff) -> None:
    """Record that raw events before cutoff are gone (the all-time tables keep counting them)."""
    conn.run(
        "UPDATE rollup_status SET raw_kept_from = greatest(coalesce(raw_kept_from, '-infinity'), CAST(:cutoff AS timestamptz))",
        cutoff=cutoff,
    )


def raw_kept_from(conn):
    return conn.run("SELECT raw_kept_from FROM rollup_status")[0][0]


@dataclasses.dataclass
class Difference:
    """A rollup table's rows that recomputation disagrees with (up to a sample of them)."""

    table: str
    scope: str
    missing: int  # rows the recomputation has and the table lacks or holds with other values
    extra: int  # rows the table has that the recomputation does not
    sample: list = dataclasses.field(default_factory=list)


_TYPES = {"hour": "timestamptz", "day": "date", "week": "date"}
_LENGTHS = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1), "week": dt.timedelta(weeks=1)}


def _first_whole(column: str, moment, before: bool):
    """The first UTC hour, day or week (from Monday) starting at or after moment; before=True: the
    one holding it (the rows earlier than that end before moment)."""
    moment = moment.astimezone(dt.UTC)
    whole = moment.replace(minute=0, second=0, microsecond=0)
    if column != "hour":
        whole = whole.replace(hour=0)
    if column == "week":
        whole -= dt.timedelta(days=whole.weekday())
    if whole < moment and not before:
        whole += _LENGTHS[column]
    return whole if column == "hour" else whole.date()


def _scope(table: str, since) -> tuple[str, dict, str]:
    """The rows of a table that the retained raw events determine: (WHERE clause, params, label)."""
    if table in MINUTE_TABLES and since is not None:
        return "WHERE minute >= CAST(:since AS timestamptz)", {"since": since}, f"minute >= {since.isoformat()}"
    if table in COARSE_TABLES and since is not None:  # the UTC hours or days that begin at or after since
        column = COARSE_TABLES[table]
        first = _first_whole(column, since, before=False)
        return f"WHERE {column} >= CAST(:first AS {_TYPES[column]})", {"first": first}, f"{column} >= {first.isoformat()}"
    return "", {}, ""


def recompute(conn, minute_cutoff=None) -> tuple[list[Difference], list[str], object]:
    """Recompute every rollup from the retained raw events, compare; (differences, skipped tables, kept_from).

    Runs in the caller's transaction, under the exclusive backfill lock: temporary tables of the
    same names shadow the rollups for this session only, so the drain's own statements
    (writes.apply_rollups, parsed afresh) fill them. The caller commits or rolls back; either
    way the temporary tables go at the end of the transaction.
    """
    conn.run("SELECT pg_advisory_xact_lock(:key)", key=LOCK_ROLLUP_BACKFILL)
    schema = conn.run("SELECT current_schema()")[0][0]
    kept_from = raw_kept_from(conn)
    since = max((t for t in (kept_from, minute_cutoff) if t is not None), default=None)
    tables = (*MINUTE_TABLES, *COARSE_TABLES, *(() if kept_from is not None else ALL_TIME_TABLES))
    for table in (*MINUTE_TABLES, *COARSE_TABLES, *ALL_TIME_TABLES):  # apply_rollups writes to each; `tables` are compared
        conn.run(f'CREATE TEMP TABLE {table} (LIKE "{schema}".{table} INCLUDING ALL) ON COMMIT DROP')
    ensure_staging(conn)
    conn.run(
        'INSERT INTO rollup_batch (project_id, user_id, action, element, duration, "timestamp", session_id) '
        'SELECT project_id, user_id, action, element, duration, "timestamp", session_id FROM events'
    )
    apply_rollups(conn, prepared=False)  # into the temporary tables, resolved afresh
    differences = []
    for table in tables:
        where, params, label = _scope(table, since)
        real = f'(SELECT * FROM "{schema}".{table} {where})'
        fresh = f"(SELECT * FROM pg_temp.{table} {where})"
        missing = conn.run(f"SELECT * FROM {fresh} f EXCEPT SELECT * FROM {real} r", **params)
        extra = conn.run(f"SELECT * FROM {real} r EXCEPT SELECT * FROM {fresh} f", **params)
        if missing or extra:
            sample = sorted([("recomputed", row) for row in missing] + [("stored", row) for row in extra], key=lambda x: str(x[1]))
            differences.append(Difference(table, label, len(missing), len(extra), sample[:10]))
    skipped = sorted(set(ALL_TIME_TABLES) - set(tables))
    return differences, skipped, kept_from


def rewrite(conn, differences: list[Difference], minute_cutoff=None) -> None:
    """Replace each differing table's rows (within its scope) with the recomputed ones."""
    schema = conn.run("SELECT current_schema()")[0][0]
    kept_from = raw_kept_from(conn)
    since = max((t for t in (kept_from, minute_cutoff) if t is not None), default=None)
    for difference in differences:
        where, params, _ = _scope(difference.table, since)
        conn.run(f'DELETE FROM "{schema}".{difference.table} {where}', **params)
        conn.run(f'INSERT INTO "{schema}".{difference.table} SELECT * FROM pg_temp.{difference.table} {where}', **params)
