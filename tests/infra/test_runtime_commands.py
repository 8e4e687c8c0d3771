"""`python -m runtime exec|print|health NAME`: what each container runs is what `make run`
runs (one process table), and the health checks compose relies on answer truthfully.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from local import run
from runtime import health as health_checks
from runtime import processes as stack
from tests.conftest import ROOT
from tests.e2e.stack import free_port_block, wait_for

NOW = dt.datetime.now(dt.UTC)


def make_run_children(settings, tmp_path) -> dict:
    """The children `make run` would start with these settings: name -> (argv, environment)."""
    local = run.Stack(dataclasses.replace(settings, local_dir=str(tmp_path), http_port=9080), threading.Event())
    base_env = {"BASE": "1"}
    return {child.name: (child.command, {k: v for k, v in child.env.items() if k not in base_env}) for child in local.children(base_env)}


def test_every_process_of_make_run_is_in_the_table(settings, tmp_path):
    assert set(make_run_children(settings, tmp_path)) == set(stack.PROCESSES)


@pytest.mark.parametrize("name", stack.PROCESSES)
def test_exec_runs_exactly_what_make_run_runs(settings, tmp_path, name):
    argv, extra_env = make_run_children(settings, tmp_path)[name]
    assert stack.process_command(name, "127.0.0.1", 9080) == (argv, extra_env)


@pytest.mark.parametrize("name", stack.PROCESSES)
def test_the_command_line_prints_the_same_argv_and_environment(name):
    env = {**clean_env(), "ANALYTICS_HTTP_PORT": "9080"}
    result = subprocess.run([sys.executable, "-m", "runtime", "print", name], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    argv, extra_env = stack.process_command(name, "127.0.0.1", 9080)
    assert json.loads(result.stdout) == {"argv": argv, "env": extra_env}


def test_in_a_container_only_the_bind_address_differs():
    here, _ = stack.process_command("ingest", "127.0.0.1", 8080)
    there, _ = stack.process_command("ingest", "0.0.0.0", 8080)  # noqa: S104 (inside its container)
    assert [a for a in here if a not in there] == ["127.0.0.1:8081"] and len(here) == len(there)


def test_unknown_processes_and_actions_are_refused():
    for argv in (["exec", "bogus"], ["start", "ingest"], ["exec"]):
        result = subprocess.run([sys.executable, "-m", "runtime", *argv], cwd=ROOT, env=clean_env(), capture_output=True, text=True)
        assert result.returncode == 2 and "usage:" in result.stderr


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    return {**env, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}", **extra}


def health(name: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runtime", "health", name], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)


@pytest.fixture
def exec_env(function_env):
    base = free_port_block(5)
    return base, clean_env(**function_env, ANALYTICS_HTTP_PORT=str(base), **stack.function_urls("127.0.0.1", base))


def start(name: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "runtime", "exec", name], cwd=ROOT, env=env, start_new_session=True)


def stop(process: subprocess.Popen) -> int:
    os.killpg(process.pid, signal.SIGTERM)
    return process.wait(timeout=20)


def test_exec_serves_a_function_and_the_gateway_and_health_tells_which_is_well(exec_env):
    base, env = exec_env
    processes = [start("ingest", env), start("gateway", env)]
    try:
        wait_for(lambda: health("ingest", env).returncode == 0, timeout=60, interval=0.5)
        # The process replaced itself with the table's command line: no wrapper stays behind.
        cmdline = Path(f"/proc/{processes[0].pid}/cmdline").read_text().rstrip("\0").split("\0")
        assert cmdline[1:] == stack.process_command("ingest", "127.0.0.1", base)[0][1:]
        # The gateway answers, and is unhealthy while three of its functions are down.
        checked, _ = wait_for(lambda: (r := health("gateway", env)).stderr and "answered 503" in r.stderr and r, timeout=60, interval=0.5)
        assert checked.returncode == 1 and '"metrics"' in checked.stderr
        stopped = health("metrics", env)
        assert stopped.returncode == 1 and "did not answer" in stopped.stderr
    finally:
        codes = [stop(p) for p in processes]
    assert codes == [0, 0], "both stop cleanly on SIGTERM, as `docker stop` sends it"


def record_drain(conn, finished: dt.datetime) -> None:
    conn.run(
        "INSERT INTO task_runs (task, status, started_at, finished_at, seconds) VALUES ('stream-drain', 'ok', :at, :at, 0.01)",
        at=finished,
    )


def test_the_scheduler_is_healthy_while_drain_runs_keep_being_recorded(settings, conn):
    assert health_checks.check_scheduler(settings) == "no stream-drain run recorded yet"
    record_drain(conn, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=120))
    assert "the last stream-drain run finished 120 s ago" in health_checks.check_scheduler(settings)
    record_drain(conn, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2))
    assert health_checks.check_scheduler(settings) is None
    result = health("scheduler", clean_env(ANALYTICS_DATABASE_URL=settings.database_url))
    assert result.returncode == 0 and result.stdout.strip() == "scheduler: ok"


def test_the_scheduler_is_unhealthy_without_its_database():
    result = health("scheduler", clean_env())
    assert result.returncode == 1 and "ANALYTICS_DATABASE_URL must be set" in result.stderr
    unreachable = health("scheduler", clean_env(ANALYTICS_DATABASE_URL=f"postgresql://x@127.0.0.1:{free_port_block(1)}/x"))
    assert unreachable.returncode == 1 and "cannot read task_runs" in unreachable.stderr


def test_exec_of_a_function_missing_a_setting_says_which_in_one_line():
    env = clean_env(ANALYTICS_DATABASE_URL="postgresql://a@127.0.0.1/a", ANALYTICS_REDIS_URL="redis://127.0.0.1:1/0")
    result = subprocess.run(
        [sys.executable, "-m", "runtime", "exec", "ingest"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr == "ingest: ANALYTICS_WRITE_KEY, ANALYTICS_TASK_TOKEN must be set (see README, Configuration)\n"
