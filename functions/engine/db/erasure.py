"""Erasing a person in PostgreSQL: their ids, rows, rollup contributions, dead letters, the record.

erase_rows runs in the caller's transaction, under the rollup lock taken exclusively (the one
the drain takes shared and the backfill exclusively, sql/009_rollups.sql): no drain adds to the
rollups and no backfill moves counted_from while the erased events' counts come off them.
"""

from __future__ import annotations

import orjson

from engine.core import erasure
from engine.core.constants import LOCK_ROLLUP_BACKFILL
from engine.db.queries import run
from engine.db.writes import ensure_staging

# Subtract-and-delete statements, in the drain's table order (rollup_apply_*), each returning
# (rows deleted, rows updated); the users/totals one also the rollup_users rows deleted.
ROLLUP_STATEMENTS = (
    "erase_rollup_1_hour_actions",
    "erase_rollup_1_minutes",
    "erase_rollup_2_day_action_users",
    "erase_rollup_2_day_users",
    "erase_rollup_3_day_elements",
    "erase_rollup_3_hour_elements",
    "erase_rollup_3_minute_elements",
    "erase_rollup_5_elements",
    "erase_rollup_6_heatmap",
    "erase_rollup_7_users_totals",
)
PRESENCE_STATEMENTS = ("erase_rollup_2_minute_users", "erase_rollup_2_week_users", "erase_rollup_4_user_sessions")


def key_grant(conn, key_hash: bytes) -> tuple[int, int, str] | None:
    """(key id, project id, kind) of the valid stored key with this hash, or None."""
    rows = run(conn, "api_key_grant", key_hash=key_hash)
    return (int(rows[0][0]), int(rows[0][1]), rows[0][2]) if rows else None


def person_ids(conn, project_id: int, user_id: str) -> set[str]:
    """The id, the person it belongs to, and every id linked to that person."""
    return {row[0] for row in run(conn, "erase_person_ids", project_id=project_id, user_id=user_id)}


def erase_rows(conn, project_id: int, ids: set[str]) -> dict[str, int]:
    """Delete the ids' events, traits, memberships and links, and take their events off every
    rollup so that each equals a recomputation; inside the caller's transaction. Counts by kind."""
    ensure_staging(conn)
    conn.run("SELECT pg_advisory_xact_lock(:key)", key=LOCK_ROLLUP_BACKFILL)
    id_list = sorted(ids)
    counts = erasure.empty_counts()
    run(conn, "erase_collect_counted", project_id=project_id, ids=id_list)
    for name in PRESENCE_STATEMENTS:
        run(conn, name, project_id=project_id, ids=id_list)
        counts["rollup_rows_deleted"] += max(conn.row_count, 0)
    for name in ROLLUP_STATEMENTS:
        deleted, updated, *users = run(conn, name, project_id=project_id, ids=id_list)[0]
        counts["rollup_rows_deleted"] += int(deleted) + sum(int(u) for u in users)
        counts["rollup_rows_updated"] += int(updated)
    run(conn, "erase_events", project_id=project_id, ids=id_list)
    counts["events"] = max(conn.row_count, 0)
    users, members, links = run(conn, "erase_identities", project_id=project_id, ids=id_list)[0]
    counts.update(users=int(users), group_members=int(members), identity_links=int(links))
    counts["dead_letters"] = erase_dead_letters(conn, project_id, ids)
    return counts


def erase_dead_letters(conn, project_id: int, ids: set[str]) -> int:
    """Delete the dead letters of this project that name one of the ids (engine/core/erasure.py)."""
    found: dict[int, bytes] = {}
    for needle in erasure.needles(ids):
        found.update((int(i), bytes(p)) for i, p in run(conn, "erase_dead_letter_candidates", needle=needle))
    doomed = sorted(i for i, payload in found.items() if erasure.payload_belongs(payload, project_id, ids))
    if doomed:
        run(conn, "erase_dead_letters", ids=doomed)
    return len(doomed)


def insert_record(conn, project_id: int, requested_by: str, requested_at, finished_at, user_id: str, ids: set[str], counts: dict) -> int:
    """Record the erasure with salted hashes of the ids, never the ids; returns its id."""
    salt = erasure.new_salt()
    rows = run(
        conn,
        "insert_erasure",
        project_id=project_id,
        requested_by=requested_by,
        requested_at=requested_at,
        finished_at=finished_at,
        salt=salt,
        subject_hash=erasure.subject_hash(salt, project_id, user_id),
        subject_hashes=[erasure.subject_hash(salt, project_id, i) for i in sorted(ids)],
        counts=orjson.dumps(counts).decode(),
    )
    return int(rows[0][0])


def records_of(conn, project_id: int, user_id: str) -> list[dict]:
    """The erasures of this project that covered this id (checked against each record's salt)."""
    return [
        {"id": int(i), "requested_by": who, "requested_at": at, "counts": counts}
        for i, who, at, salt, hashes, counts in run(conn, "erasure_records", project_id=project_id)
        if erasure.was_erased(bytes(salt), hashes, project_id, user_id)
    ]


def replay_matches(conn, project_id: int) -> list[tuple[int, str]]:
    """(record id, id) for every id this project knows that an erasure record of it covers: after
    a restore from a backup older than the records, these are the ids to erase again."""
    records = [
        (int(i), bytes(salt), [bytes(h) for h in hashes])
        for i, _, _, salt, hashes, _ in run(conn, "erasure_records", project_id=project_id)
    ]
    if not records:
        return []
    candidates = sorted(row[0] for row in run(conn, "erasure_candidate_ids", project_id=project_id))
    return [(i, user_id) for i, salt, hashes in records for user_id in candidates if erasure.was_erased(salt, hashes, project_id, user_id)]
