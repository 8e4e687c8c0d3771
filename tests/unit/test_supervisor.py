import sys
import threading
import time

from local.supervisor import Child, Supervisor


def child(tmp_path, name, code):
    return Child(name, [sys.executable, "-c", code], {}, tmp_path / f"{name}.log")


def test_dead_child_is_restarted_and_quick_crashes_back_off(tmp_path):
    crasher = child(tmp_path, "crasher", "import sys; print('boom'); sys.exit(3)")
    supervisor = Supervisor([crasher], tmp_path)
    supervisor.start()
    crasher.process.wait()
    supervisor.watch_once()  # first quick exit: restart at once
    assert crasher.restarts == 1
    crasher.process.wait()
    supervisor.watch_once()  # second quick exit in a row: wait 2 s before the next start
    assert crasher.restarts == 1
    assert crasher.restart_at - time.monotonic() > 1.5
    assert "boom" in (tmp_path / "crasher.log").read_text()
    supervisor.stop_all(2)


def test_stop_all_kills_what_ignores_sigterm(tmp_path):
    stubborn = child(
        tmp_path, "stubborn", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    )
    supervisor = Supervisor([stubborn], tmp_path)
    supervisor.start()
    deadline = time.monotonic() + 10
    while "up" not in (tmp_path / "stubborn.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    supervisor.stop_all(1)
    assert stubborn.process.returncode == -9
    assert time.monotonic() - started < 5


def test_wait_ready_reports_a_child_that_exits(tmp_path):
    dead = child(tmp_path, "dead", "print('cannot start'); raise SystemExit(1)")
    dead.health_url = "http://127.0.0.1:9/healthz"
    supervisor = Supervisor([dead], tmp_path)
    supervisor.start()
    [problem] = supervisor.wait_ready(10, threading.Event())
    assert problem.startswith("dead exited with 1: cannot start")
