"""`make erase-person` (python -m engine.erasecli): progress and counts, --check, and --replay after a restore."""

import datetime as dt
import getpass
import os
import subprocess
import sys

import pytest

from engine import shards
from engine.core import erasure
from tests.conftest import ROOT
from tests.erasure_helpers import queue_for
from tests.factories import make_event

pytestmark = pytest.mark.integration


def erasecli(function_env, *args):
    env = {**os.environ, **function_env, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}"}
    return subprocess.run([sys.executable, "-m", "engine.erasecli", *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)


def stored(settings, rclient, conn, events) -> None:
    queue_for(settings, 1, events)
    from engine import clients

    shards.drain_shards(rclient, conn, clients.stream_shards(settings), settings, dt.datetime.now(dt.UTC))


def test_the_command_erases_prints_the_counts_and_records_the_os_user(function_env, settings, rclient, conn):
    stored(settings, rclient, conn, [make_event(user_id="zed"), make_event(user_id="zed"), make_event(user_id="amy")])
    done = erasecli(function_env, "1", "zed")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "erasing 'zed' from project 1: pausing the drains, then erasing rows, rollup counts and stream entries"
    assert lines[1].startswith("erased: 1 id(s), erasure ")
    assert "  events               2" in lines
    assert conn.run("SELECT user_id FROM events") == [["amy"]]
    assert conn.run("SELECT requested_by, counts->>'events' FROM erasures") == [[f"cli:{getpass.getuser()}", "2"]]
    check = erasecli(function_env, "1", "zed", "--check")
    assert (check.returncode, check.stdout.count("\n"), "by cli:" in check.stdout) == (0, 1, True)
    assert erasecli(function_env, "1", "amy", "--check").stdout == "no erasure of project 1 covers this id\n"


def test_bad_arguments_and_an_unknown_project_exit_non_zero_with_a_reason(function_env):
    assert erasecli(function_env, "1", "x" * 256).stdout == "erase: user_id is longer than 255 characters\n"
    missing = erasecli(function_env, "99", "zed")
    assert (missing.returncode, missing.stdout) == (1, "erase: no project 99\n")
    assert erasecli(function_env, "1").returncode == 2


def test_replay_after_a_restore_erases_again_the_ids_the_records_cover(function_env, settings, rclient, conn):
    stored(settings, rclient, conn, [make_event(user_id="zed"), make_event(user_id="amy")])
    assert erasecli(function_env, "1", "zed").returncode == 0
    # A restore from a backup older than the erasure brings zed back; the records are kept apart.
    stored(settings, rclient, conn, [make_event(user_id="zed")])
    [(record, salt)] = conn.run("SELECT id, salt FROM erasures")
    assert erasure.was_erased(bytes(salt), conn.run("SELECT subject_hashes FROM erasures")[0][0], 1, "zed")
    replay = erasecli(function_env, "1", "--replay")
    assert replay.returncode == 0, replay.stderr
    assert f"erasure {record} covers an id still present" in replay.stdout
    assert conn.run("SELECT user_id FROM events") == [["amy"]]
    assert conn.run("SELECT requested_by FROM erasures ORDER BY id")[1] == [f"cli:{getpass.getuser()} replaying erasure {record}"]
    again = erasecli(function_env, "1", "--replay")
    assert again.stdout == "no id of project 1 is covered by its erasure records: nothing to erase again\n"
