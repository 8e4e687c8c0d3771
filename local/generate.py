"""Load realistic events into PostgreSQL fast, as if the drain had stored them (COPY, no Redis).

    python -m local.generate --events 1000000 --database-url postgresql://postgres@127.0.0.1/analytics

Many users with Zipf-distributed activity, Zipf-distributed elements and actions, a month of
timestamps shaped by hour of day and day of week, sessions, durations. Rows go into events and
event_ids (the drain's idempotency ledger), into daily partitions created first, and are counted
into the rollups in the same transaction, as the drain does (writes.add_to_rollups).
--drain-runs also writes that many seconds of task_runs history, so the pipeline-health panels
have something realistic to read. Deterministic per --seed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from engine import logs
from engine.core import constants as c
from engine.core import partitions
from engine.db import migrate, postgres, upkeep, writes

log = logs.get_logger("local.generate")

CHUNK_EVENTS = 50_000
EVENT_COLUMNS = (
    'event_id, project_id, user_id, action, element, duration, "timestamp", client_timestamp, sent_at, received_at, session_id, properties'
)
TASK_RUN_COLUMNS = (
    "task, status, started_at, finished_at, seconds, read, inserted, duplicates, dead_lettered, reclaimed, backlog, "
    "oldest_undrained_age_seconds"
)
NULL = "\\N"
# The chunk's rows into events, and on to rollup_batch for the rollups.
INSERT_GENERATED = (
    "WITH inserted AS (INSERT INTO events SELECT * FROM generated "
    'RETURNING project_id, user_id, action, element, duration, "timestamp", session_id) '
    'INSERT INTO rollup_batch (project_id, user_id, action, element, duration, "timestamp", session_id) SELECT * FROM inserted'
)

ACTIONS = ("view", "click", "scroll", "play", "pause", "like", "search", "share", "comment", "add_to_cart", "purchase", "signup")
# Actions that are instantaneous carry no duration, as a real tracker would send them.
TIMED_ACTIONS = frozenset({"view", "scroll", "play", "pause", "search", "comment"})
NAMED_ELEMENTS = (
    "video_player", "like_button", "nav_home", "search_box", "feed_card", "share_button", "comment_box",
    "signup_form", "checkout_button", "product_image", "nav_profile", "settings_toggle", "menu", "footer_link",
)  # fmt: skip
# Relative activity by ISO weekday (Mon..Sun) and by UTC hour: a weekday-heavy, afternoon-peaked week.
WEEKDAY_WEIGHTS = (1.0, 1.0, 0.98, 0.96, 0.9, 0.7, 0.65)
HOUR_WEIGHTS = (
    0.15, 0.1, 0.08, 0.07, 0.08, 0.12, 0.25, 0.45, 0.65, 0.8, 0.88, 0.92,
    0.95, 1.0, 1.0, 0.97, 0.93, 0.9, 0.88, 0.85, 0.75, 0.6, 0.4, 0.25,
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Shape:
    """What to generate: how many events, over which time, among how many users and elements."""

    events: int
    end: dt.datetime
    days: int = 30
    users: int = 50_000
    elements: int = 400
    project_id: int = c.DEFAULT_PROJECT_ID
    seed: int = 1


def zipf_cumulative(n: int, s: float) -> list[float]:
    """Cumulative weights of ranks 1..n under Zipf's law with exponent s (for random.choices)."""
    return list(itertools.accumulate(1.0 / rank**s for rank in range(1, n + 1)))


def element_names(count: int) -> list[str]:
    return [*NAMED_ELEMENTS, *(f"card_{i}" for i in range(count - len(NAMED_ELEMENTS)))][:count]


def hour_slots(shape: Shape) -> tuple[list[dt.datetime], list[float]]:
    """Every UTC hour of the period, oldest first, with its cumulative activity weight."""
    end_hour = shape.end.replace(minute=0, second=0, microsecond=0)
    starts = [end_hour - dt.timedelta(hours=h) for h in range(shape.days * 24 - 1, -1, -1)]
    weights = [WEEKDAY_WEIGHTS[s.weekday()] * HOUR_WEIGHTS[s.hour] for s in starts]
    return starts, list(itertools.accumulate(weights))


class Generator:
    """Deterministic COPY text for events and event_ids, one chunk at a time."""

    def __init__(self, shape: Shape):
        self.shape = shape
        self.rng = random.Random(shape.seed)  # noqa: S311 (reproducible sample data, no secret)
        self.elements = element_names(shape.elements)
        self.element_cum = zipf_cumulative(len(self.elements), 1.1)
        self.action_cum = zipf_cumulative(len(ACTIONS), 1.2)
        self.user_cum = zipf_cumulative(shape.users, 0.8)
        self.slots, self.slot_cum = hour_slots(shape)
        # "YYYY-MM-DD HH:" of each slot and of the hour after it: timestamps are built by
        # string concatenation, far faster than datetime formatting at millions of rows.
        self.prefix = [s.strftime("%Y-%m-%d %H:") for s in [*self.slots, self.slots[-1] + dt.timedelta(hours=1)]]
        self.limit_seconds = (shape.end - self.slots[-1]).total_seconds()

    def chunk(self, count: int) -> tuple[bytes, bytes]:
        """COPY text of `count` events, and of their event_ids rows."""
        rng = self.rng
        slots = rng.choices(range(len(self.slots)), cum_weights=self.slot_cum, k=count)
        users = rng.choices(range(self.shape.users), cum_weights=self.user_cum, k=count)
        actions = rng.choices(ACTIONS, cum_weights=self.action_cum, k=count)
        elements = rng.choices(self.elements, cum_weights=self.element_cum, k=count)
        project = str(self.shape.project_id)
        last = len(self.slots) - 1
        events, ids = [], []
        for slot, user, action, element in zip(slots, users, actions, elements, strict=True):
            # The newest hour is cut at `end`: nothing is generated in the future.
            offset = rng.random() * (self.limit_seconds if slot == last else 3600.0)
            received = offset + 0.05 + rng.random() * 2.0
            moment = self._clock(slot, offset)
            arrived = self._clock(slot, received) if received < 3600.0 else self._clock(slot + 1, received - 3600.0)
            event_id = uuid4_text(rng.getrandbits(128))
            duration = f"{rng.lognormvariate(2.0, 1.0):.3f}" if action in TIMED_ACTIONS else NULL
            session = f"s{user:x}-{slot // 4:x}"
            properties = '{"plan": "pro"}' if user % 10 == 0 else NULL
            events.append(
                f"{event_id}\t{project}\tuser_{user}\t{action}\t{element if rng.random() > 0.05 else NULL}\t{duration}\t"
                f"{moment}\t{moment}\t{NULL}\t{arrived}\t{session}\t{properties}\n"
            )
            ids.append(f"{event_id}\t{arrived}\n")
        return "".join(events).encode(), "".join(ids).encode()

    def _clock(self, slot: int, seconds: float) -> str:
        whole = int(seconds)
        return f"{self.prefix[slot]}{whole // 60:02d}:{whole % 60:02d}.{int((seconds - whole) * 1e6):06d}+00"


def uuid4_text(bits: int) -> str:
    """A version-4 UUID's text from 128 random bits (uuid.UUID is several times slower)."""
    h = f"{(bits & ~(0xF << 76) & ~(0x3 << 62)) | (0x4 << 76) | (0x2 << 62):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def ensure_partitions(conn, shape: Shape) -> list[str]:
    """Create the daily partitions the period needs, as the drain would (older days go to events_default)."""
    first = (shape.end - dt.timedelta(days=shape.days)).date()
    days = {first + dt.timedelta(days=i) for i in range((shape.end.date() - first).days + 1)}
    missing = partitions.needed(days, upkeep.partition_days(conn), shape.end, retention_days=0)
    upkeep.alter_partitions(conn, [partitions.create_statement(d) for d in missing], c.LOCK_PARTITIONS)
    return [partitions.partition_name(d) for d in missing]


def load_events(conn, shape: Shape) -> int:
    """COPY shape.events events (and their ids) in chunks, one transaction each.

    The next chunk is generated while the server loads this one: each side takes about half
    of the time, so overlapping them nearly halves it.
    """
    generator = Generator(shape)
    writes.ensure_staging(conn)
    conn.run("CREATE TEMP TABLE IF NOT EXISTS generated (LIKE events)")
    sizes = [min(CHUNK_EVENTS, shape.events - start) for start in range(0, shape.events, CHUNK_EVENTS)]
    loaded = 0
    with ThreadPoolExecutor(max_workers=1) as ahead:
        pending = ahead.submit(generator.chunk, sizes[0]) if sizes else None
        for i, count in enumerate(sizes):
            events, ids = pending.result()
            pending = ahead.submit(generator.chunk, sizes[i + 1]) if i + 1 < len(sizes) else None
            with postgres.transaction(conn):
                conn.run("TRUNCATE generated")
                conn.run(f"COPY generated ({EVENT_COLUMNS}) FROM STDIN", stream=[events])
                conn.run(INSERT_GENERATED)
                conn.run("COPY event_ids (event_id, received_at) FROM STDIN", stream=[ids])
                writes.add_to_rollups(conn)
            loaded += count
            log.info("events loaded", extra={"loaded": loaded, "of": shape.events})
    return loaded


def load_task_runs(conn, shape: Shape, drain_seconds: int) -> int:
    """One stream-drain run a second and one view-refresh every 30 s, for drain_seconds up to end."""
    rng = random.Random(shape.seed + 1)  # noqa: S311 (reproducible sample data, no secret)
    lines = []
    for i in range(drain_seconds, 0, -1):
        finished = shape.end - dt.timedelta(seconds=i)
        seconds = 0.002 + rng.random() * 0.05
        inserted = rng.randint(0, 400)
        backlog = rng.randint(0, 50)
        age = f"{rng.random() * 2:.3f}" if backlog else NULL
        started = finished - dt.timedelta(seconds=seconds)
        lines.append(
            f"stream-drain\tok\t{started.isoformat()}\t{finished.isoformat()}\t{seconds:.4f}\t{inserted}\t{inserted}\t0\t0\t0\t{backlog}\t{age}\n"
        )
        if i % 30 == 0:
            refresh = 0.2 + rng.random() * 2
            started = finished - dt.timedelta(seconds=refresh)
            lines.append(
                f"view-refresh\trefreshed\t{started.isoformat()}\t{finished.isoformat()}\t{refresh:.4f}\t0\t0\t0\t0\t0\t0\t{NULL}\n"
            )
    with postgres.transaction(conn):
        conn.run(f"COPY task_runs ({TASK_RUN_COLUMNS}) FROM STDIN", stream=["".join(lines).encode()])
    return len(lines)


def generate(database_url: str, shape: Shape, drain_seconds: int = 0) -> dict:
    """Migrate, create partitions, load everything; returns what was done and how fast."""
    started = time.perf_counter()
    migrate.migrate(database_url)
    conn = postgres.connect(database_url, application_name="analytics-generate", statement_timeout_ms=3_600_000, io_timeout_seconds=60)
    try:
        created = ensure_partitions(conn, shape)
        loaded = load_events(conn, shape)
        runs = load_task_runs(conn, shape, drain_seconds) if drain_seconds else 0
        load_seconds = time.perf_counter() - started
        # Every table it filled, rollups included: reads planned on tables never analyzed are planned
        # blind (a 30-day element breakdown at 3 M events: 1.9 s before ANALYZE, 1.0 s after), and
        # autovacuum would analyze them only some time after a bulk load like this one.
        conn.run("ANALYZE")
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    return {
        "events": loaded,
        "task_runs": runs,
        "partitions_created": len(created),
        "load_seconds": round(load_seconds, 2),
        "events_per_second": round(loaded / load_seconds) if load_seconds else None,
        "seconds": round(seconds, 2),
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True, help="how many events to load")
    parser.add_argument("--database-url", required=True, help="postgresql://... (migrated first if needed)")
    parser.add_argument("--days", type=int, default=30, help="the period the events span, ending at --end (30)")
    parser.add_argument("--users", type=int, default=50_000, help="distinct users (50000)")
    parser.add_argument("--elements", type=int, default=400, help="distinct elements (400)")
    parser.add_argument("--end", type=dt.datetime.fromisoformat, default=None, help="end of the period, ISO 8601 (now)")
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed loads the same rows (1)")
    parser.add_argument("--drain-runs", type=int, default=0, help="also write this many seconds of task_runs history (0)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    logs.configure()
    args = parse_args(argv)
    end = args.end or dt.datetime.now(dt.UTC)
    end = (end if end.tzinfo else end.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    if args.events < 0 or args.days < 1 or args.users < 1 or args.elements < len(NAMED_ELEMENTS):
        print(f"error: need --events >= 0, --days >= 1, --users >= 1, --elements >= {len(NAMED_ELEMENTS)}", file=sys.stderr)
        return 2
    shape = Shape(args.events, end, args.days, args.users, args.elements, seed=args.seed)
    try:
        report = generate(args.database_url, shape, args.drain_runs)
    except (postgres.DatabaseError, postgres.InterfaceError, migrate.MigrationError) as exc:
        print(f"error: {postgres.server_message(exc)}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
