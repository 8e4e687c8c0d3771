"""The rollups against the oracle over raw events: generated data with late events, duplicates,
late identity links, several projects and empty minutes; repair; retention."""

import datetime as dt
import os
import random
import subprocess
import sys
import uuid

import pytest

from engine import aggregates, refresh
from engine.core import partitions
from engine.core.constants import LOCK_PARTITIONS
from engine.db import rollups, upkeep, writes
from tests import rollup_check
from tests.conftest import ROOT, with_settings
from tests.helpers import copy_lines

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PROJECTS = [1, 2, 3]


def entries(rows: list[dict]) -> bytes:
    """COPY lines as the drain writes them, each row with its own event_id."""
    return copy_lines(rows, NOW)


def moment(rng: random.Random) -> dt.datetime:
    """Mostly the last 90 minutes (every 7th minute left empty), some late by hours or days."""
    if rng.random() < 0.15:
        return NOW - dt.timedelta(hours=rng.uniform(2, 24 * 9))
    minute = rng.choice([m for m in range(90) if m % 7 != 3])
    return NOW.replace(second=0) - dt.timedelta(minutes=minute) + dt.timedelta(seconds=rng.uniform(0, 59.999))


def generated(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    elements = ["video_player", "like_button", "share", "Zoom", "zoom", "élan", None]
    return [
        {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "project_id": rng.choice([1, 1, 2, 3]),
            "user_id": rng.choice([f"user_{rng.randrange(25)}", f"anon_{rng.randrange(25)}"]),
            "element": rng.choice(elements),
            # Multiples of 1/8 are exact in binary: the definition is compared, not float noise.
            "duration": rng.choice([None, rng.randrange(0, 4000) / 8]),
            "timestamp": moment(rng),
            "session_id": rng.choice([None, f"s{rng.randrange(12)}"]),
        }
        for _ in range(count)
    ]


def link(conn, project_id: int, alias: str, target: str) -> None:
    writes.apply_identities(conn, [{"project_id": project_id, "links": [[alias, target]]}])


def load(conn, seed: int, count: int = 3000) -> list[dict]:
    """Store generated events in batches of the drain's kind, resending some ids (a resend may
    carry another timestamp: the first stored wins), with links arriving between and after."""
    rng = random.Random(seed)
    rows = generated(seed, count)
    stored: list[dict] = []
    for start in range(0, len(rows), 400):
        batch = rows[start : start + 400]
        resent = [dict(e, timestamp=moment(rng)) for e in rng.sample(stored, min(len(stored), 40))]
        writes.load_rows(conn, entries(batch + resent))
        stored += batch
        if start == 800:
            link(conn, 1, "anon_1", "user_1")
            link(conn, 2, "anon_2", "user_2")
    for i in range(0, 25, 3):  # links that arrive after the events they move
        link(conn, 1, f"anon_{i}", f"user_{i}")
        link(conn, 3, f"anon_{i}", f"user_{(i + 1) % 25}")
    link(conn, 1, "user_3", "user_4")  # a chain: anon_3 -> user_3 -> user_4, kept flat
    return stored


@pytest.mark.parametrize("seed", [1, 2])
def test_every_rollup_number_equals_the_oracle(conn, settings, seed):
    stored = load(conn, seed)
    assert rollup_check.check(conn, NOW, PROJECTS, settings) == len(stored)
    assert len(rollup_check.stored_links(conn)) >= 15
    for later in (NOW + dt.timedelta(minutes=3), NOW - dt.timedelta(minutes=40)):  # other windows, empty minutes inside
        rollup_check.check(conn, later, PROJECTS, with_settings(settings, active_window_seconds=600))


def test_week_presence_rows_are_the_raw_events_utc_weeks_and_retention_keeps_the_weeks_it_must(conn, settings):
    rows = [dict(e, timestamp=NOW - dt.timedelta(days=i % 40, minutes=i)) for i, e in enumerate(generated(21, 800))]
    days = {e["timestamp"].date() for e in rows}
    upkeep.alter_partitions(conn, [partitions.create_statement(d) for d in sorted(days)], LOCK_PARTITIONS)
    for start in range(0, len(rows), 300):
        writes.load_rows(conn, entries(rows[start : start + 300]))
    want = {(e["project_id"], monday(e["timestamp"]), e["user_id"]) for e in rows}
    assert set(map(tuple, conn.run("SELECT project_id, week, user_id FROM rollup_week_users"))) == want
    assert len({week for _, week, _ in want}) >= 6
    cutoff = NOW - dt.timedelta(days=20)
    rollups.delete_old_minutes(conn, cutoff)
    kept = {key for key in want if key[1] >= monday(cutoff)}  # the week holding the cutoff stays whole
    assert set(map(tuple, conn.run("SELECT project_id, week, user_id FROM rollup_week_users"))) == kept
    said = []
    assert aggregates.verify(conn, with_settings(settings, rollup_retention_days=20), NOW, fix=False, say=said.append) == 0, said
    conn.run(
        "DELETE FROM rollup_week_users WHERE (project_id, week, user_id) IN "
        "(SELECT DISTINCT ON (project_id) project_id, week, user_id FROM rollup_week_users ORDER BY project_id, week DESC, user_id)"
    )
    said.clear()
    assert aggregates.verify(conn, with_settings(settings, rollup_retention_days=20), NOW, fix=False, say=said.append) == 1
    assert said[0].startswith(
        f"rollup_week_users (week >= {monday(cutoff + dt.timedelta(days=6)).isoformat()}): {len(PROJECTS)} recomputed rows not stored"
    )


def monday(moment: dt.datetime) -> dt.date:
    day = moment.astimezone(dt.UTC).date()
    return day - dt.timedelta(days=day.weekday())


def test_a_replayed_batch_adds_nothing(conn, settings):
    rows = generated(7, 500)
    assert writes.load_rows(conn, entries(rows)) == 500
    before = conn.run("SELECT * FROM rollup_totals ORDER BY project_id")
    assert writes.load_rows(conn, entries(rows)) == 0
    assert conn.run("SELECT * FROM rollup_totals ORDER BY project_id") == before
    rollup_check.check(conn, NOW, PROJECTS, settings)


def test_the_day_counts_migration_fills_each_days_counts_from_its_hours(conn, settings):
    load(conn, 3)
    # As before sql/014_day_counts.sql: the new columns at their defaults, then its fill statements.
    conn.run("UPDATE rollup_days SET events = 0, durations = 0, duration_sum = 0")
    conn.run("UPDATE rollup_day_actions SET events = 0, durations = 0, duration_sum = 0")
    assert conn.run("SELECT sum(events) FROM rollup_days")[0][0] == 0
    migration = (ROOT / "sql" / "014_day_counts.sql").read_text()
    fills = [part.strip() for part in migration.split(";") if part.strip().startswith("UPDATE")]
    assert len(fills) == 2
    for statement in fills:
        conn.run(statement)
    rollup_check.check_days(conn, rollup_check.stored_events(conn))
    assert conn.run("SELECT sum(events) FROM rollup_days")[0][0] == conn.run("SELECT count(*) FROM events")[0][0]


def test_verify_reports_a_corrupted_row_and_fix_rewrites_it(conn, settings):
    load(conn, 3, 1000)
    said = []
    assert aggregates.verify(conn, settings, NOW, fix=False, say=said.append) == 0
    assert said == ["the rollups match the raw events"]
    conn.run(
        "UPDATE rollup_minutes SET events = events + 5 WHERE minute = (SELECT max(minute) FROM rollup_minutes WHERE project_id = 1) AND project_id = 1"
    )
    conn.run(
        "DELETE FROM rollup_element_users WHERE (project_id, user_id, element) IN (SELECT project_id, user_id, element FROM rollup_element_users LIMIT 1)"
    )
    conn.run(
        "UPDATE rollup_day_users SET hours = hours # 1 WHERE (project_id, day, user_id) IN "
        "(SELECT project_id, day, user_id FROM rollup_day_users ORDER BY 1, 2, 3 LIMIT 1)"
    )
    conn.run(
        "UPDATE rollup_days SET users = users + 1 WHERE (project_id, day) IN (SELECT project_id, max(day) FROM rollup_days GROUP BY 1)"
    )
    said.clear()
    assert aggregates.verify(conn, settings, NOW, fix=False, say=said.append) == 4
    assert said[0].startswith("rollup_minutes: 1 recomputed rows not stored as such, 1 stored rows not recomputed")
    assert any(line.startswith("rollup_day_users: 1 recomputed rows not stored as such, 1 stored") for line in said)
    assert any(line.startswith(f"rollup_days: {len(PROJECTS)} recomputed rows not stored as such, {len(PROJECTS)} stored") for line in said)
    assert any(line.startswith("rollup_element_users: 1 recomputed rows not stored as such, 0 stored") for line in said)
    with pytest.raises(AssertionError):
        rollup_check.check(conn, NOW, PROJECTS, settings)
    said.clear()
    assert aggregates.verify(conn, settings, NOW, fix=True, say=said.append) == 4
    assert said[-1] == "rewrote 4 table(s) from the recomputation"
    assert aggregates.verify(conn, settings, NOW, fix=False, say=said.append) == 0
    rollup_check.check(conn, NOW, PROJECTS, settings)


def test_retention_drops_raw_partitions_and_all_time_figures_stay(conn, settings):
    old = [dict(e, timestamp=NOW - dt.timedelta(days=20, minutes=i)) for i, e in enumerate(generated(11, 300))]
    recent = generated(12, 700)
    days = {e["timestamp"].date() for e in old + recent}
    upkeep.alter_partitions(conn, [partitions.create_statement(d) for d in sorted(days)], LOCK_PARTITIONS)
    writes.load_rows(conn, entries(old + recent))
    before = {p: rollup_check.all_time_figures(conn, p, NOW, settings) for p in PROJECTS}
    result = refresh.run_refresh(conn, with_settings(settings, retention_days=10), NOW)
    assert result["partitions"]["dropped"], "the old day's partition went"
    assert conn.run("SELECT count(*) FROM events")[0][0] == len(recent)
    assert {p: rollup_check.all_time_figures(conn, p, NOW, settings) for p in PROJECTS} == before
    said = []
    assert aggregates.verify(conn, settings, NOW, fix=False, say=said.append) == 0
    assert said[0].startswith("not checked: rollup_element_users, rollup_elements, rollup_heatmap")
    rollup_check.check_views(conn, rollup_check.stored_events(conn) + old, rollup_check.stored_links(conn))


def test_make_verify_aggregates_command(conn, function_env):
    """`make verify-aggregates [FIX=1]` runs `python -m engine.aggregates verify [--fix]`: exit 1 on a difference."""
    load(conn, 4, 400)
    env = {**os.environ, **function_env, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}"}

    def verify(*flags):
        return subprocess.run(
            [sys.executable, "-m", "engine.aggregates", "verify", *flags], env=env, capture_output=True, text=True, timeout=120
        )

    assert verify().returncode == 0
    conn.run("UPDATE rollup_totals SET events = events - 1 WHERE project_id = 1")
    found = verify()
    assert found.returncode == 1 and found.stdout.startswith("rollup_totals: 1 recomputed rows not stored as such, 1 stored"), found.stdout
    fixed = verify("--fix")
    assert fixed.returncode == 0 and fixed.stdout.endswith("rewrote 1 table(s) from the recomputation\n"), fixed.stdout
    assert verify().stdout == "the rollups match the raw events\n"
