"""What a newcomer runs first: each refusal is one clear line (no traceback), a function started
alone listens on loopback, and the key commands find `make run`'s database by themselves.
"""

import dataclasses
import json
import os
import signal
import subprocess
import sys

import psutil
import pytest

from engine.db import postgres
from local.keytool import NO_DATABASE
from tests.e2e.stack import ROOT, clean_env, free_port_block, wait_for

pytestmark = pytest.mark.e2e
PYTHONPATH = {"PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}"}


def run(argv: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, env={**env, **PYTHONPATH}, input=stdin, capture_output=True, text=True, timeout=60)


def test_a_function_that_refuses_to_start_prints_only_its_message():
    argv = [sys.executable, "-m", "functions_framework", "--source", "functions/main.py", "--target", "metrics", "--port", "9"]
    done = run(argv, clean_env(ANALYTICS_DATABASE_URL="postgresql://u@127.0.0.1:5432/db"))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == ("error: ANALYTICS_REDIS_URL, ANALYTICS_READ_KEY, ANALYTICS_TASK_TOKEN must be set (see README, Configuration)\n")


def test_make_migrate_on_a_database_that_does_not_exist_says_so_in_one_line(function_env):
    target = postgres.parse_database_url(function_env["ANALYTICS_DATABASE_URL"])
    missing = postgres.format_database_url(dataclasses.replace(target, database="analytics_missing_db"))
    done = run([sys.executable, "-m", "engine.migrate"], clean_env(ANALYTICS_DATABASE_URL=missing))
    assert done.returncode == 1
    assert done.stderr == 'migrate: PostgreSQL at ANALYTICS_DATABASE_URL refused: 3D000 database "analytics_missing_db" does not exist\n'


def test_a_port_whose_block_does_not_fit_is_refused_with_the_variables_name(tmp_path):
    done = run([sys.executable, "-m", "local"], clean_env(ANALYTICS_LOCAL_DIR=str(tmp_path), ANALYTICS_HTTP_PORT="65534"))
    assert done.returncode == 2
    assert done.stderr == (
        "error: ANALYTICS_HTTP_PORT must be between 1 and 65531 (the gateway's port; the functions take the next 4), got 65534\n"
    )


def test_declining_make_reset_keeps_everything_and_is_not_an_error(tmp_path):
    (tmp_path / "keys.json").write_text("{}")
    done = run(["make", "-s", "reset"], clean_env(ANALYTICS_LOCAL_DIR=str(tmp_path)), stdin="n\n")
    assert done.returncode == 0
    assert done.stdout == f"Delete {tmp_path} (embedded PostgreSQL and Redis data, keys, logs)? [y/N] kept {tmp_path}\n"
    assert done.stderr == ""
    assert (tmp_path / "keys.json").exists()


def test_the_key_commands_say_how_to_reach_a_database_when_there_is_none(tmp_path):
    done = run(["make", "-s", "keys"], clean_env(ANALYTICS_LOCAL_DIR=str(tmp_path)))
    assert done.returncode != 0
    assert done.stderr.splitlines()[0] == NO_DATABASE.format(local=tmp_path, command="keys")


def test_the_key_commands_find_the_running_stack_and_say_which_keys_expired(tmp_path, function_env, conn):
    # run.json as a live `make run` writes it (this test's process stands for its pid).
    state = {"pid": os.getpid(), "children": {}, "servers": {"EmbeddedPostgres": 1}}
    (tmp_path / "run.json").write_text(json.dumps({**state, "database_url": function_env["ANALYTICS_DATABASE_URL"]}))
    env = clean_env(ANALYTICS_LOCAL_DIR=str(tmp_path))
    created = run(["make", "-s", "key", "NAME=newcomer"], env)
    assert created.returncode == 0, created.stderr
    (project_id,) = conn.run("SELECT id FROM projects WHERE name = 'newcomer'")[0]
    rotated = run(["make", "-s", "rotate-key", f"PROJECT={project_id}", "KIND=write", "GRACE_HOURS=0"], env)
    assert rotated.returncode == 0, rotated.stderr
    listed = run(["make", "-s", "keys"], env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["id", "project", "kind", "key", "created", "state"]
    mine = [line.split() for line in lines[1:] if line.split()[1] == "newcomer"]
    assert [(row[2], row[5]) for row in mine] == [("read", "active"), ("write", "expired"), ("write", "active")]


def test_a_function_served_alone_listens_on_loopback(function_env):
    port = free_port_block(1)
    env = {**clean_env(), **function_env}
    process = subprocess.Popen(
        ["make", "-s", "serve-metrics", f"PORT={port}"],
        cwd=ROOT,
        env={**env, **PYTHONPATH},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def listening():
            tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
            found = set()
            for member in tree:
                found |= {c.laddr.ip for c in member.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
            return found

        addresses, _ = wait_for(listening, timeout=30)
        assert addresses == {"127.0.0.1"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
