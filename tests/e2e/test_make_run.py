"""`make run`'s stack end to end: embedded servers, scheduler-driven drain, supervision, shutdown."""

import json
import shutil
import subprocess

import psutil
import pytest

from tests.e2e.stack import ROOT, RunningStack, call, clean_env, free_port_block, port_free, wait_for
from tests.factories import make_event

pytestmark = pytest.mark.e2e


def counted(stack: RunningStack, read_key: str, expected: int):
    def check():
        status, body = call("GET", f"{stack.url}/metrics", headers={"Authorization": f"Bearer {read_key}"})
        return status == 200 and body["events_in_window"] == expected and body

    return check


def test_make_run_end_to_end(tmp_path):
    local_dir = tmp_path / "local"
    port = free_port_block()
    stack = RunningStack(local_dir, port).start()
    try:
        keys = stack.keys()
        write, read = {"X-Write-Key": keys["write_key"]}, keys["read_key"]
        assert keys["write_key"] in stack.output()  # printed once, clearly
        assert set(stack.state()["servers"]) == {"EmbeddedPostgres", "EmbeddedRedis"}
        assert stack.state()["database_url"].startswith("postgresql://")  # what `make keys` uses (local/keytool.py)
        # Every process says in its log when it started, so a restart line can quote it.
        logs_dir = local_dir / "logs"
        assert '"msg":"functions loaded"' in (logs_dir / "metrics.log").read_text()
        assert '"msg":"gateway started"' in (logs_dir / "gateway.log").read_text()

        # The seed's event through the gateway, counted by GET /metrics within 5 s, with no
        # task route called: the scheduler drives the drain.
        status, body = call("POST", f"{stack.url}/event", make_event(), write)
        assert status == 202 and body["status"] == "accepted"
        metrics, seconds = wait_for(counted(stack, read, 1), timeout=5)
        assert metrics["top_elements"] == [{"element": "video_player", "count": 1}]
        # The drain commits the rows first and records its run after: the freshness block says
        # so a moment later.
        drained, _ = wait_for(lambda: (body := counted(stack, read, 1)()) and body["freshness"]["last_drain_at"] and body, timeout=5)
        assert drained["freshness"]["available"] is True

        # The gateway passes statuses and headers through unchanged.
        status, body = call("POST", f"{stack.url}/event", {"user_id": "u"}, write)
        assert status == 400 and body["error"]["details"] == {"action": ["Missing data for required field."]}
        status, body = call("GET", f"{stack.url}/metrics")
        assert status == 401 and body["error"]["code"] == "unauthorized"

        # A function killed with SIGKILL is restarted and serves again.
        old_pid = stack.state()["children"]["ingest"]
        psutil.Process(old_pid).kill()
        new_pid, _ = wait_for(lambda: (pid := stack.state()["children"]["ingest"]) != old_pid and pid, timeout=10)
        wait_for(lambda: call("GET", f"http://127.0.0.1:{port + 1}/healthz")[0] == 200, timeout=15)
        assert "process restarted" in stack.output() and '"child":"ingest"' in stack.output()
        exited = [json.loads(line) for line in stack.output().splitlines() if '"msg":"process exited; restarting"' in line]
        assert [line["child"] for line in exited] == ["ingest"]
        assert exited[0]["log_tail"] and all(json.loads(line)["ts"] for line in exited[0]["log_tail"])  # the end of its log
        status, _ = call("POST", f"{stack.url}/event", make_event(user_id="user_456"), write)
        assert status == 202
        wait_for(counted(stack, read, 2), timeout=5)

        # Ctrl-C stops every process it started, within 10 s, and frees every port.
        processes = stack.tree()
        assert len(processes) >= 10
        stopped_in = stack.interrupt(timeout=10)
        assert stopped_in < 10
        assert stack.process.returncode == 0
        assert [p.pid for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
        assert all(port_free(port + i) for i in range(5))
        assert "stopped everything" in stack.output()
    finally:
        stack.stop()

    # Started again on the same .local/, the earlier events are still there.
    again = RunningStack(local_dir, port).start()
    try:
        metrics, _ = wait_for(counted(again, read, 2), timeout=10)
        assert metrics["active_users"] == 2
        assert again.keys() == keys
    finally:
        again.stop()


def test_configured_services_start_nothing_embedded(tmp_path, services, settings):
    port = free_port_block()
    stack = RunningStack(
        tmp_path / "local",
        port,
        ANALYTICS_DATABASE_URL=settings.database_url,
        ANALYTICS_REDIS_URL=settings.redis_url,
        ANALYTICS_REDIS_NAMESPACE=settings.redis_namespace,
    ).start()
    try:
        assert stack.state()["servers"] == {}
        assert "database_url" not in stack.state()  # a configured URL (maybe with a password) is not copied
        assert not (tmp_path / "local" / "data").exists()
        keys = stack.keys()
        status, _ = call("POST", f"{stack.url}/event", make_event(), {"X-Write-Key": keys["write_key"]})
        assert status == 202
        wait_for(counted(stack, keys["read_key"], 1), timeout=5)
        assert stack.interrupt() < 10
    finally:
        stack.stop()


def test_port_in_use_is_one_clear_line(tmp_path):
    import socket

    port = free_port_block()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port + 2))
        holder.listen()
        result = subprocess.run(
            [shutil.which("python3") and __import__("sys").executable, "-m", "local"],
            cwd=ROOT,
            env=clean_env(ANALYTICS_LOCAL_DIR=str(tmp_path), ANALYTICS_HTTP_PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"error: port {port + 2} (metrics) on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unreachable_database_is_one_clear_line(tmp_path):
    port = free_port_block()
    result = subprocess.run(
        [__import__("sys").executable, "-m", "local"],
        cwd=ROOT,
        env=clean_env(
            ANALYTICS_LOCAL_DIR=str(tmp_path),
            ANALYTICS_HTTP_PORT=str(port),
            ANALYTICS_DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "error: cannot reach PostgreSQL at ANALYTICS_DATABASE_URL (127.0.0.1:1, database nowhere)" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert all(port_free(port + i) for i in range(5))


def test_too_old_python_is_one_clear_line(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    result = subprocess.run(["make", "install", "PYTHON=/bin/false"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "error: Python 3.11 or newer is needed; '/bin/false' is" in result.stderr
    assert not (tmp_path / ".venv").exists()
