import pytest

from tests.conftest import READ, TASK, WRITE
from tests.factories import make_event

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("target", "path"), [("stream_drain", "/tasks/stream-drain"), ("view_refresh", "/tasks/view-refresh")])
@pytest.mark.parametrize("headers", [{}, WRITE, READ, {"Authorization": "Bearer not-the-token-at-all"}])
def test_task_routes_need_the_task_token(apps, target, path, headers):
    response = apps[target].post(path, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def queue_two(apps) -> list[str]:
    sent = apps["ingest"].post("/events", json=[make_event(), make_event()], headers=WRITE)
    assert sent.status_code == 202
    assert (sent.json["accepted"], sent.json["duplicates"], sent.json["rejected"]) == (2, 0, [])
    return sent.json["event_ids"]


def test_drain_answers_its_counts(apps, conn):
    event_ids = queue_two(apps)
    response = apps["stream_drain"].post("/tasks/stream-drain", headers=TASK)
    assert response.status_code == 200
    body = response.json
    timing = body.pop("seconds")
    assert body == {
        "read": 2,
        "inserted": 2,
        "duplicates": 0,
        "dead_lettered": 0,
        "reclaimed": 0,
        "identities": 0,
        "retry_later": 0,
        "backlog": 0,
        "batches": 1,
    }
    assert isinstance(timing, float) and 0 < timing < 30
    assert sorted(str(i) for (i,) in conn.run("SELECT event_id FROM events")) == sorted(event_ids)


def test_empty_drain(apps):
    body = apps["stream_drain"].post("/tasks/stream-drain", headers=TASK).json
    assert (body["read"], body["inserted"], body["backlog"]) == (0, 0, 0)


def test_refresh_answers_timings(apps):
    response = apps["view_refresh"].post("/tasks/view-refresh", headers=TASK)
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "refreshed"
    assert set(body["timings"]) == {"partitions", "backfill"}  # the views are plain views over the rollups
    assert body["backfill"] == {"counted": 0, "chunks": 0, "pending_projects": [], "seconds": body["backfill"]["seconds"]}


@pytest.mark.parametrize(("target", "checks"), [("stream_drain", {"redis": "ok", "postgres": "ok"}), ("view_refresh", {"postgres": "ok"})])
def test_healthz(apps, target, checks):
    response = apps[target].get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"] == checks


def test_each_run_is_recorded_for_dashboards(apps, conn):
    queue_two(apps)
    for target, path in (("stream_drain", "/tasks/stream-drain"),) * 2 + (("view_refresh", "/tasks/view-refresh"),):
        assert apps[target].post(path, headers=TASK).status_code == 200
    rows = conn.run("SELECT task, status, read, inserted, backlog, seconds >= 0, details ? 'request_id' FROM task_runs ORDER BY id")
    assert rows == [
        ["stream-drain", "ok", 2, 2, 0, True, True],
        ["stream-drain", "ok", 0, 0, 0, True, True],
        ["view-refresh", "refreshed", 0, 0, 0, True, True],
    ]


def test_reader_role_can_read_and_not_write(conn):
    conn.run("SET ROLE analytics_reader")
    try:
        assert conn.run("SELECT count(*) FROM events") == [[0]]
        assert conn.run("SELECT count(*) FROM user_engagement") == [[0]]
        with pytest.raises(Exception, match="permission denied"):
            conn.run("INSERT INTO projects (id, name) VALUES (99, 'x')")
    finally:
        conn.run("RESET ROLE")
