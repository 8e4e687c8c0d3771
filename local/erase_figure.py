"""The time to erase one person with 10,000 events from a database of 10 M events.

    python -m local.erase_figure [--events 10000000] [--person-events 10000]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--redis-url redis://127.0.0.1:6379/0]

Creates a scratch database next to --admin-url, loads --events generated events with
local.generate (two loader processes, as the read benchmark does), adds one person's events
(spread over the 30 days, with sessions, elements and a linked anonymous id), and times
engine.erase.erase_person: leases, ids, rows, rollup subtraction, dead letters, stream, record,
commit. Then it adds the person's events again, drops events_project_user (sql/010) and times a
second erasure, to show what the index saves. Prints one JSON line with both, the load average
at each, and drops the database and its Redis keys.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import redis

from engine import erase
from engine.buffer.keys import shard_keys
from engine.core import copyfmt
from engine.db import migrate, postgres, writes

ROOT = Path(__file__).resolve().parents[1]
PERSON = "erase-figure-person"
ALIAS = "erase-figure-anon"
LOADERS = 2


def load_generated(database_url: str, events: int) -> float:
    """local.generate in LOADERS processes; seconds taken."""
    started = time.monotonic()
    shares = [events // LOADERS + (1 if i < events % LOADERS else 0) for i in range(LOADERS)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}"}
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "local.generate", "--events", str(n), "--seed", str(i + 1), "--database-url", database_url],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for i, n in enumerate(shares)
    ]
    for child in children:
        child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"local.generate exited {child.returncode}")
    return time.monotonic() - started


def person_rows(count: int, end: dt.datetime) -> bytes:
    """COPY lines (as the drain writes them) of one person's events over 30 days; a tenth under an alias."""
    lines = []
    received = end.isoformat()
    for i in range(count):
        entry = {
            "v": 1,
            "event_id": str(uuid.uuid4()),
            "project_id": 1,
            "user_id": ALIAS if i % 10 == 0 else PERSON,
            "action": "view",
            "element": f"element_{i % 37}",
            "duration": (i % 97) / 4,
            "timestamp": (end - dt.timedelta(seconds=i * 259)).isoformat(),
            "received_at": received,
            "session_id": f"s{i // 50}",
            "properties": None,
        }
        lines.append(copyfmt.copy_line(f"0-{i}", orjson.dumps(entry)))
    return b"".join(lines)


def add_person(conn, count: int, end: dt.datetime) -> None:
    rows = person_rows(count, end)
    for start in range(0, len(rows.splitlines()), 5000):
        writes.load_rows(conn, b"\n".join(rows.splitlines()[start : start + 5000]) + b"\n")
    writes.apply_identities(conn, [{"project_id": 1, "links": [[ALIAS, PERSON]]}])
    conn.run("ANALYZE events")


def timed_erasure(conn, rclient, namespace: str) -> dict:
    load = os.getloadavg()
    started = time.perf_counter()
    body = erase.erase_person(rclient, conn, shard_keys(namespace, 1), 1, PERSON, "cli:erase-figure")
    return {"seconds": round(time.perf_counter() - started, 3), "events": body["erased"]["events"], "load_average": load}


def run(admin_url: str, redis_url: str, events: int, person_events: int) -> dict:
    target = postgres.parse_database_url(admin_url)
    name = f"analytics_erase_figure_{secrets.token_hex(4)}"
    admin = postgres.connect(target, application_name="analytics-erase-figure", statement_timeout_ms=60_000, io_timeout_seconds=30)
    admin.run(f'CREATE DATABASE "{name}"')
    url = postgres.format_database_url(target.with_database(name))
    namespace = f"erase-figure-{secrets.token_hex(4)}"
    rclient = redis.Redis.from_url(redis_url)
    try:
        migrate.migrate(url)
        load_seconds = load_generated(url, events)
        conn = postgres.connect(url, application_name="analytics-erase-figure", statement_timeout_ms=3_600_000, io_timeout_seconds=600)
        try:
            end = dt.datetime.now(dt.UTC).replace(microsecond=0)
            add_person(conn, person_events, end)
            stored = conn.run("SELECT count(*) FROM events")[0][0]
            with_index = timed_erasure(conn, rclient, namespace)
            add_person(conn, person_events, end)
            conn.run("DROP INDEX events_project_user")
            without_index = timed_erasure(conn, rclient, namespace)
        finally:
            conn.close()
    finally:
        for key in rclient.scan_iter(match="{" + namespace + "}*"):
            rclient.delete(key)
        rclient.close()
        admin.run(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()
    return {
        "stored_events": stored,
        "person_events": person_events,
        "load_seconds": round(load_seconds, 1),
        "erase_with_index": with_index,
        "erase_without_index": without_index,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.erase_figure", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--person-events", type=int, default=10_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.admin_url, args.redis_url, args.events, args.person_events)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
