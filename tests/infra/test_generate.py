"""local/generate.py: realistic events loaded by COPY, as if the drain had stored them."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from local import generate
from tests.conftest import ROOT

END = dt.datetime(2026, 11, 20, 15, 30, 12, tzinfo=dt.UTC)


def shape(events: int, **changes) -> generate.Shape:
    return generate.Shape(**{"events": events, "end": END, "days": 30, "users": 5000, "elements": 100, "seed": 3, **changes})


def test_the_same_seed_makes_the_same_rows_and_another_seed_others():
    first, second = generate.Generator(shape(500)).chunk(500), generate.Generator(shape(500)).chunk(500)
    assert first == second
    assert generate.Generator(shape(500, seed=4)).chunk(500) != first


def test_zipf_weights_fall_with_rank():
    weights = generate.zipf_cumulative(4, 1.0)
    assert weights == [1.0, 1.5, 1.5 + 1 / 3, 1.5 + 1 / 3 + 0.25]


def test_the_hour_slots_cover_the_period_and_end_at_its_last_hour():
    starts, cumulative = generate.hour_slots(shape(1, days=2))
    assert len(starts) == len(cumulative) == 48
    assert starts[-1] == END.replace(minute=0, second=0) and starts[0] == starts[-1] - dt.timedelta(hours=47)
    assert all(b > a for a, b in zip(cumulative, cumulative[1:], strict=False))


@pytest.fixture
def loaded(settings, conn):
    report = generate.generate(settings.database_url, shape(4000), drain_seconds=90)
    return report


def test_it_loads_events_and_their_ids_into_daily_partitions(conn, loaded):
    assert loaded["events"] == 4000 and loaded["task_runs"] == 93
    assert conn.run("SELECT count(*), count(DISTINCT event_id) FROM events")[0] == [4000, 4000]
    assert conn.run("SELECT count(*) FROM event_ids i JOIN events e USING (event_id) WHERE i.received_at = e.received_at")[0][0] == 4000
    assert conn.run("SELECT count(*) FROM events_default")[0][0] == 0, "every day has its partition"
    first, last, late = conn.run(
        'SELECT min("timestamp"), max("timestamp"), count(*) FILTER (WHERE received_at < "timestamp") FROM events'
    )[0]
    assert END - dt.timedelta(days=30) <= first and last < END and late == 0


def test_the_events_look_like_real_traffic(conn, loaded):
    users, elements, missing_element, timed = conn.run(
        "SELECT count(DISTINCT user_id), count(DISTINCT element), count(*) FILTER (WHERE element IS NULL), "
        "count(*) FILTER (WHERE duration IS NOT NULL) FROM events"
    )[0]
    assert users > 1000 and elements > 50 and 100 < missing_element < 400 and 1000 < timed < 3500
    top = [
        name for name, _ in conn.run("SELECT element, count(*) FROM events WHERE element IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 3")
    ]
    assert top == ["video_player", "like_button", "nav_home"], "the Zipf ranks of the named elements"
    (busy, quiet) = conn.run(
        'SELECT count(*) FILTER (WHERE extract(hour FROM "timestamp") IN (13, 14)), '
        'count(*) FILTER (WHERE extract(hour FROM "timestamp") IN (2, 3)) FROM events'
    )[0]
    assert busy > 5 * quiet, "afternoons (UTC) are busier than nights"
    assert conn.run("SELECT count(*) FROM user_engagement")[0][0] == users, "every event was counted into the rollups"
    assert conn.run("SELECT sum(events) FROM rollup_minutes")[0][0] == conn.run("SELECT count(*) FROM events")[0][0]


def test_the_task_runs_history_is_one_drain_a_second_and_a_refresh_every_30(conn, loaded):
    runs = dict(conn.run("SELECT task, count(*) FROM task_runs GROUP BY task"))
    assert runs == {"stream-drain": 90, "view-refresh": 3}
    assert conn.run("SELECT max(finished_at) FROM task_runs")[0][0] == END - dt.timedelta(seconds=1)


def test_every_table_it_filled_is_analyzed_so_reads_are_planned_on_its_rows(conn, loaded):
    filled = (
        "events",
        "event_ids",
        "task_runs",
        "rollup_minutes",
        "rollup_minute_users",
        "rollup_minute_elements",
        "rollup_day_users",
        "rollup_week_users",
        "rollup_users",
    )
    analyzed = dict(
        conn.run("SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = ANY (:names)", names=list(filled))
    )
    assert analyzed == {name: True for name in filled}


def test_the_command_line_loads_and_reports(settings, conn):
    command = [
        sys.executable,
        "-m",
        "local.generate",
        "--events",
        "300",
        "--database-url",
        settings.database_url,
        "--days",
        "2",
        "--end",
        END.isoformat(),
    ]
    result = subprocess.run([*command, "--seed", "9"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["events"] == 300
    assert conn.run("SELECT count(*) FROM events")[0][0] == 300
    assert conn.run("SELECT events FROM rollup_totals")[0][0] == 300, "counted in the same transactions"
    command[command.index("300")] = "-1"
    bad = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--events >= 0" in bad.stderr
