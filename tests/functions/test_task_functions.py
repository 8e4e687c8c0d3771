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


def test_drain_answers_its_counts(apps, conn):
    apps["ingest"].post("/events", json=[make_event(), make_event()], headers=WRITE)
    response = apps["stream_drain"].post("/tasks/stream-drain", headers=TASK)
    assert response.status_code == 200
    body = response.json
    assert {k: body[k] for k in ("read", "inserted", "duplicates", "dead_lettered", "reclaimed", "backlog")} == {
        "read": 2,
        "inserted": 2,
        "duplicates": 0,
        "dead_lettered": 0,
        "reclaimed": 0,
        "backlog": 0,
    }
    assert body["seconds"] >= 0
    assert conn.run("SELECT count(*) FROM events")[0][0] == 2


def test_empty_drain(apps):
    body = apps["stream_drain"].post("/tasks/stream-drain", headers=TASK).json
    assert (body["read"], body["inserted"], body["backlog"]) == (0, 0, 0)


def test_refresh_answers_timings(apps):
    response = apps["view_refresh"].post("/tasks/view-refresh", headers=TASK)
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "refreshed"
    assert set(body["timings"]) == {"partitions", "user_engagement", "project_totals", "activity_heatmap", "element_rankings"}


@pytest.mark.parametrize(("target", "checks"), [("stream_drain", {"redis": "ok", "postgres": "ok"}), ("view_refresh", {"postgres": "ok"})])
def test_healthz(apps, target, checks):
    response = apps[target].get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"] == checks


def test_each_run_is_recorded_for_dashboards(apps, conn):
    apps["ingest"].post("/events", json=[make_event(), make_event()], headers=WRITE)
    apps["stream_drain"].post("/tasks/stream-drain", headers=TASK)
    apps["stream_drain"].post("/tasks/stream-drain", headers=TASK)
    apps["view_refresh"].post("/tasks/view-refresh", headers=TASK)
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
