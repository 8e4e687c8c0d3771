"""Put dead letters back on the stream, for when the cause was fixed (make replay-dead-letters).

    python -m engine.replay            # every dead letter not replayed yet

Each payload is appended exactly as it was queued, then marked replayed, in the database
transaction that locked it. A crash between the two appends it again on the next replay,
and the event's id keeps that from making a second row. An entry that fails again becomes
a new dead letter, with its new error.
"""

from __future__ import annotations

import sys

from engine import clients, config, logs
from engine.buffer import streams
from engine.core.errors import EngineError
from engine.db import postgres, writes

log = logs.get_logger("engine.replay")
BATCH = 500


def replay(conn, rclient, keys, batch: int = BATCH) -> list[int]:
    """Replay every dead letter not yet replayed; returns their ids."""
    replayed: list[int] = []
    while True:
        with postgres.transaction(conn):
            rows = writes.claim_dead_letters(conn, batch)
            if not rows:
                return replayed
            entry_ids = streams.requeue(rclient, keys, [bytes(payload) for _, _, payload in rows])
            ids = [row[0] for row in rows]
            writes.mark_replayed(conn, ids)
        for (letter_id, old_stream_id, _), entry_id in zip(rows, entry_ids, strict=True):
            log.info(
                "dead letter replayed", extra={"dead_letter_id": letter_id, "old_stream_id": old_stream_id, "stream_id": entry_id.decode()}
            )
        replayed.extend(ids)


def main() -> int:
    logs.configure()
    try:
        settings = config.get_settings().require("database_url", "redis_url")
        conn = postgres.connect(
            settings.database_url, application_name="analytics-replay", statement_timeout_ms=60_000, io_timeout_seconds=30
        )
    except (EngineError, postgres.InterfaceError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 1
    try:
        ids = replay(conn, clients.redis_client(settings), clients.stream_keys(settings))
    finally:
        conn.close()
    print(f"replay: {len(ids)} dead letter(s) back on the stream" + (f" (ids {ids[0]}..{ids[-1]})" if ids else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
