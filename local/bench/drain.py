"""Figure 3: the drain, stream to committed rows, against a plain COPY of the same rows.

The stream holds what the write figures appended. The drain function is invoked back to back
(as a scheduler that never waits would) until the stream is empty; then the rows it committed
are exported, preformatted, and COPYed in one stream into a table carrying the indexes of
events and event_ids, which is the floor.
"""

from __future__ import annotations

import io
import re
import time

from engine.db import postgres
from local.bench.calls import call
from local.bench.context import Bench
from local.bench.figures import Figure, Goal

FLOOR_TABLE = "bench_copy_floor"
CHUNK_BYTES = 1 << 20
MAX_INVOCATIONS = 10_000
_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ USING ", re.IGNORECASE)


def floor_index_sql(indexdef: str, table: str) -> str:
    """An index definition of events or event_ids (pg_get_indexdef), retargeted at the floor table."""
    if not _INDEX.match(indexdef):
        raise ValueError(f"not an index definition: {indexdef}")
    return _INDEX.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX ON {table} USING ", indexdef, count=1)


def chunks(data: bytes, size: int) -> list[bytes]:
    """data cut into pieces of about size bytes, each ending at a line's end."""
    pieces, start = [], 0
    while start < len(data):
        end = data.find(b"\n", min(start + size, len(data)) - 1)
        end = len(data) if end < 0 else end + 1
        pieces.append(data[start:end])
        start = end
    return pieces


def event_columns(conn) -> str:
    rows = conn.run(
        "SELECT quote_ident(column_name) FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'events' ORDER BY ordinal_position"
    )
    return ", ".join(r[0] for r in rows)


def copy_floor(conn) -> tuple[float, int, list[str]]:
    """(rows/s, rows, index definitions) of COPYing the events table's rows into a fresh table with its indexes."""
    columns = event_columns(conn)
    exported = io.BytesIO()
    conn.run(f"COPY (SELECT {columns} FROM events) TO STDOUT", stream=exported)
    data = exported.getvalue()
    rows = data.count(b"\n")
    definitions = [
        floor_index_sql(d, FLOOR_TABLE)
        for (d,) in conn.run(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid IN ('events'::regclass, 'event_ids'::regclass) ORDER BY 1"
        )
    ]
    conn.run(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
    conn.run(f"CREATE TABLE {FLOOR_TABLE} (LIKE events INCLUDING DEFAULTS)")
    try:
        for definition in definitions:
            conn.run(definition)
        pieces = chunks(data, CHUNK_BYTES)
        started = time.perf_counter()
        with postgres.transaction(conn):
            conn.run(f"COPY {FLOOR_TABLE} ({columns}) FROM STDIN", stream=pieces)
        seconds = time.perf_counter() - started
    finally:
        conn.run(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
    return rows / seconds, rows, definitions


def drain_all(bench: Bench) -> tuple[float, list[dict]]:
    """Invoke the drain until the stream is empty; (seconds, each invocation's answer)."""
    client, keys = bench.redis(), bench.keys()
    answers = []
    started = time.perf_counter()
    try:
        for _ in range(MAX_INVOCATIONS):
            status, body = call("POST", bench.functions.url("stream-drain", "/tasks/stream-drain"), bench.task_headers(), b"", timeout=600)
            if status != 200:
                raise RuntimeError(f"the drain answered {status}: {body}")
            answers.append(body)
            if client.xlen(keys.stream) == 0:
                break
    finally:
        client.close()
    return time.perf_counter() - started, answers


def measure(bench: Bench) -> list[Figure]:
    client = bench.redis()
    waiting = client.xlen(bench.keys().stream)
    client.close()
    conn = bench.connect()
    try:
        (before,) = conn.run("SELECT count(*) FROM events")[0]
        conn.run("CHECKPOINT")  # each of the drain and its floor starts with no dirty pages of the other's
        bench.say(f"drain: {waiting:,} events in the stream, invoking the drain until it is empty")
        seconds, answers = drain_all(bench)
        (after,) = conn.run("SELECT count(*) FROM events")[0]
        committed = after - before
        bench.say(f"  {committed:,} rows committed in {seconds:.1f} s ({len(answers)} invocations)")
        bench.say(f"  floor: COPY of the same {after:,} rows into a table with the same indexes")
        conn.run("CHECKPOINT")
        floor, rows, definitions = copy_floor(conn)
        bench.say(f"  floor: {floor:,.0f} rows/s")
    finally:
        conn.close()
    note = "" if committed == waiting else f"{waiting:,} in the stream but {committed:,} rows committed"
    return [
        Figure(
            key="drain",
            name="drain, stream to committed rows",
            unit="events/s",
            value=committed / seconds if seconds > 0 and committed else None,
            goal=Goal(min_ratio=0.50),
            floor=floor,
            floor_name="pg8000 COPY of the same rows, preformatted, into a table with the same indexes",
            details={
                "stream": waiting,
                "committed": committed,
                "seconds": round(seconds, 3),
                "invocations": answers,
                "floor_rows": rows,
                "floor_indexes": definitions,
            },
            note=note,
        )
    ]
