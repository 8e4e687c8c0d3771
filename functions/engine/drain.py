"""stream-drain: move the stream into PostgreSQL, at least once, exactly once in effect.

One invocation: take over entries that a dead invocation left pending, then read new
entries in batches until the stream is empty or the time budget is spent. Each batch is
COPYed into staging and inserted with ON CONFLICT on the event id, committed, and only
then acknowledged and deleted. An entry that breaks the insert is isolated by bisection;
it is retried on later deliveries and dead-lettered after max_deliveries, so it never
holds back the entries around it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import os
import socket
import time
import uuid

from engine.buffer import consumers
from engine.buffer.keys import Keys
from engine.config import Settings
from engine.core import constants as c
from engine.core import copyfmt, partitions
from engine.db import postgres, upkeep, writes
from engine.db.postgres import conn_state
from engine.logs import get_logger

log = get_logger("engine.drain")


@dataclasses.dataclass
class DrainReport:
    """What one invocation did; the drain route answers it as JSON."""

    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    reclaimed: int = 0
    identities: int = 0
    retry_later: int = 0
    backlog: int = 0
    batches: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Item:
    """One stream entry on its way to a row, a dead letter, or a later retry."""

    stream_id: str
    raw: bytes
    deliveries: int
    event: dict | None = None
    day: dt.date | None = None
    row: bytes | None = None
    error: str | None = None


def consumer_name() -> str:
    """A consumer name used by one invocation only, so finished consumers can be deleted safely."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def prepare(entry_id: bytes, fields: dict, deliveries: int) -> Item:
    """Decode an entry into a COPY row, or mark why it can never be loaded."""
    stream_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    item = Item(stream_id, fields.get(c.ENTRY_FIELD, b"") or b"", deliveries)
    try:
        item.event = copyfmt.decode_entry(fields)
        if item.event.get("kind", "event") == "event":
            item.day = copyfmt.event_day(item.event)
            item.row = copyfmt.copy_line(stream_id, item.raw)
    except copyfmt.EntryError as exc:
        item.error = str(exc)
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        item.error = f"entry cannot be formatted: {exc}"
    return item


def _ensure_partitions(conn, days: set, now: dt.datetime, settings: Settings) -> None:
    known = conn_state(conn).get("partition_days")
    if known is not None and days <= known:
        return
    existing = upkeep.partition_days(conn)
    missing = partitions.needed(days, existing, now, settings.retention_days)
    try:
        upkeep.alter_partitions(conn, [partitions.create_statement(d) for d in missing], c.LOCK_PARTITIONS)
    except postgres.DatabaseError as exc:
        if postgres.is_transient(exc):
            raise
        # The rows still land, in the default partition; nothing is lost.
        log.warning("partition not created", extra={"days": [str(d) for d in missing], "error": postgres.server_message(exc)})
        return
    conn_state(conn)["partition_days"] = existing | set(missing)


def _load_isolating(conn, items: list[Item]) -> tuple[int, list[tuple[Item, str]]]:
    """Load items; if the batch fails on its data, bisect to find the entries that break it."""
    if not items:
        return 0, []
    try:
        return writes.load_rows(conn, b"".join(i.row for i in items)), []
    except postgres.DatabaseError as exc:
        if postgres.is_transient(exc):
            raise
        if len(items) == 1:
            return 0, [(items[0], postgres.server_message(exc))]
    middle = len(items) // 2
    left, left_failed = _load_isolating(conn, items[:middle])
    right, right_failed = _load_isolating(conn, items[middle:])
    return left + right, left_failed + right_failed


def _first_of_each_id(items: list[Item]) -> tuple[list[Item], list[tuple[Item, Item]]]:
    """The first entry of each event id in a batch, and (twin, first) for the later copies.

    A copy follows its first's fate: a row for the first is a duplicate for the copy.
    """
    firsts: dict[str, Item] = {}
    twins = []
    for item in items:
        first = firsts.setdefault(item.event["event_id"], item)
        if first is not item:
            twins.append((item, first))
    return list(firsts.values()), twins


def _apply_isolating(conn, items: list[Item]) -> list[tuple[Item, str]]:
    """Apply identity operations together; if they fail on their data, one by one to find which."""
    if not items:
        return []
    try:
        writes.apply_identities(conn, [i.event for i in items])
        return []
    except postgres.DatabaseError as exc:
        if postgres.is_transient(exc):
            raise
        if len(items) == 1:
            return [(items[0], postgres.server_message(exc))]
    return [failure for item in items for failure in _apply_isolating(conn, [item])]


def process_batch(rclient, conn, keys: Keys, settings: Settings, items: list[Item], now: dt.datetime, report: DrainReport) -> None:
    """Load one batch, dead-letter what must be, then acknowledge what is settled."""
    loadable = [i for i in items if i.error is None and i.row is not None]
    operations = [i for i in items if i.error is None and i.row is None]
    letters = [i for i in items if i.error is not None]
    firsts, twins = _first_of_each_id(loadable)
    _ensure_partitions(conn, {i.day for i in firsts}, now, settings)
    inserted, failed = _load_isolating(conn, firsts)
    failed_ids = {item.stream_id for item, _ in failed}
    failed += [(twin, error) for twin, first in twins for item, error in failed if item is first]
    failed_ids |= {twin.stream_id for twin, first in twins if first.stream_id in failed_ids}
    loaded = len(loadable) - len(failed)
    # Users, groups and links: operations, and the links events carry (anonymousId + userId).
    identities = operations + [i for i in loadable if i.stream_id not in failed_ids and i.event.get("links")]
    identity_failed = _apply_isolating(conn, identities)
    failed += identity_failed
    failed_ids |= {item.stream_id for item, _ in identity_failed}
    report.identities += len(identities) - len(identity_failed)
    for item, error in failed:
        item.error = error
        if item.deliveries >= settings.drain_max_deliveries:
            letters.append(item)
        else:
            report.retry_later += 1
            log.warning(
                "entry failed to load; will retry",
                extra={"stream_id": item.stream_id, "deliveries": item.deliveries, "error": error, **_trace(item)},
            )
    writes.insert_dead_letters(conn, [(i.stream_id, i.raw, i.error, i.deliveries) for i in letters])
    for item in letters:
        log.error(
            "entry dead-lettered",
            extra={"stream_id": item.stream_id, "deliveries": item.deliveries, "error": item.error, **_trace(item)},
        )
    settled = [i.stream_id for i in loadable + operations if i.stream_id not in failed_ids] + [i.stream_id for i in letters]
    # Only now, with the rows and dead letters committed, may the entries leave the stream.
    consumers.ack_and_delete(rclient, keys, settled, drained=inserted, drain_duplicates=loaded - inserted, dead_lettered=len(letters))
    if settled:
        log.debug(
            "batch settled",
            extra={
                "first_stream_id": settled[0],
                "last_stream_id": settled[-1],
                "inserted": inserted,
                "duplicates": loaded - inserted,
                "dead_lettered": len(letters),
                "request_ids": sorted({i.event.get("request_id") or "" for i in loadable if i.event})[:50],
            },
        )
    report.read += len(items)
    report.inserted += inserted
    report.duplicates += loaded - inserted
    report.dead_lettered += len(letters)
    report.batches += 1


def _trace(item: Item) -> dict:
    event = item.event or {}
    return {"event_id": event.get("event_id"), "request_id": event.get("request_id")}


def _drain_new(rclient, conn, keys: Keys, settings: Settings, now: dt.datetime, report: DrainReport, consumer: str, in_budget) -> None:
    """Read and load new entries until the stream is empty or the budget is spent.

    The next batch is read and decoded in a second thread while PostgreSQL loads this one,
    so the two halves of the work overlap. A batch read ahead is always loaded: the budget
    is checked before reading, never between a read and its load. Should loading fail, the
    batch read ahead stays pending under this consumer and the next invocation reclaims it,
    as after a crash.
    """
    batch = settings.drain_batch_size

    def fetch() -> tuple[int, list[Item]]:
        entries = consumers.read_new(rclient, keys, consumer, batch)
        return len(entries), [prepare(e, f, 1) for e, f in entries]

    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="drain-read") as reader:
        ahead = reader.submit(fetch)
        while True:
            count, items = ahead.result()
            more = count == batch and in_budget()
            if more:
                ahead = reader.submit(fetch)
            if items:
                process_batch(rclient, conn, keys, settings, items, now, report)
            if not more:
                break


def run_drain(rclient, conn, keys: Keys, settings: Settings, now: dt.datetime, clock=time.monotonic) -> DrainReport:
    """One drain invocation, bounded by settings.drain_budget_seconds."""
    started = clock()
    deadline = started + settings.drain_budget_seconds
    report = DrainReport()
    consumer = consumer_name()
    batch = settings.drain_batch_size
    consumers.ensure_group(rclient, keys)

    while clock() < deadline:
        claimed, vanished = consumers.reclaim_stale(rclient, keys, consumer, settings.drain_reclaim_idle_ms, batch)
        if vanished:
            consumers.ack_and_delete(rclient, keys, vanished)
        if not claimed:
            break
        counts = consumers.delivery_counts(rclient, keys, consumer, [e for e, _ in claimed])
        items = [prepare(e, f, counts.get(e, 1)) for e, f in claimed]
        report.reclaimed += len(items)
        process_batch(rclient, conn, keys, settings, items, now, report)

    if clock() < deadline:
        _drain_new(rclient, conn, keys, settings, now, report, consumer, lambda: clock() < deadline)

    if report.retry_later == 0:
        rclient.xgroup_delconsumer(keys.stream, keys.group, consumer)
    idle_ms = max(2 * settings.drain_reclaim_idle_ms, int(2000 * settings.drain_budget_seconds), 60_000)
    consumers.forget_idle_consumers(rclient, keys, idle_ms, keep=consumer)
    report.backlog = consumers.backlog(rclient, keys)
    report.seconds = round(clock() - started, 4)
    return report
