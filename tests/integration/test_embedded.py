"""The embedded servers recover from a run that was killed without stopping them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from engine.db import postgres
from local.embedded import EmbeddedPostgres, EmbeddedRedis, socket_dir
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

ORPHAN = """
import sys, time
from pathlib import Path
sys.path[:0] = [{functions!r}, {root!r}]
from local.embedded import EmbeddedPostgres, EmbeddedRedis
root = Path({path!r})
pg = EmbeddedPostgres(root, durable=False); pg.start()
r = EmbeddedRedis(root); r.start()
print(pg.process.pid, r.process.pid, flush=True)
time.sleep(600)
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_servers_left_by_a_killed_run_are_replaced(tmp_path):
    root = tmp_path / "stack"
    script = ORPHAN.format(functions=str(ROOT / "functions"), root=str(ROOT), path=str(root))
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pg_pid, redis_pid = map(int, owner.stdout.readline().split())
    owner.send_signal(signal.SIGKILL)  # the servers outlive their supervisor
    owner.wait()
    owner.stdout.close()
    assert alive(pg_pid) and alive(redis_pid)

    pg = EmbeddedPostgres(root, durable=False)
    server = EmbeddedRedis(root)
    try:
        url = pg.start()
        redis_url = server.start()
        conn = postgres.connect(url, application_name="t", statement_timeout_ms=5000, io_timeout_seconds=5)
        assert conn.run("SELECT 1") == [[1]]
        conn.close()
        client = redis.Redis.from_url(redis_url)
        assert client.ping()
        client.close()
        deadline = time.monotonic() + 10
        while (alive(pg_pid) or alive(redis_pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(pg_pid) and not alive(redis_pid)
    finally:
        pg.stop()
        server.stop()


def test_dead_pid_file_is_not_an_error(tmp_path):
    pg = EmbeddedPostgres(tmp_path / "s", durable=False)
    pg.start()
    pg.stop()
    (pg.data / "postmaster.pid").write_text("999999\n" + str(pg.data) + "\n")
    (pg.sockets / ".s.PGSQL.5432.lock").write_text("999999\n")
    try:
        pg.start()
        assert pg.process.poll() is None
    finally:
        pg.stop()


def test_data_and_stream_survive_a_restart(tmp_path):
    root = tmp_path / "keep"
    pg, server = EmbeddedPostgres(root), EmbeddedRedis(root, appendonly=True)
    try:
        conn = postgres.connect(pg.start(), application_name="t", statement_timeout_ms=5000, io_timeout_seconds=5)
        conn.run("CREATE TABLE kept (x int)")
        conn.run("INSERT INTO kept VALUES (42)")
        conn.close()
        client = redis.Redis.from_url(server.start())
        client.xadd("s", {"e": "1"})
        client.close()
    finally:
        pg.stop()
        server.stop()
    try:
        conn = postgres.connect(pg.start(), application_name="t", statement_timeout_ms=5000, io_timeout_seconds=5)
        assert conn.run("SELECT x FROM kept") == [[42]]
        conn.close()
        client = redis.Redis.from_url(server.start())
        assert client.xlen("s") == 1
        client.close()
    finally:
        pg.stop()
        server.stop()


def test_long_paths_get_a_short_socket_dir(tmp_path):
    deep = tmp_path / ("d" * 120)
    assert socket_dir(deep) != deep.resolve()
    assert len(str(socket_dir(deep))) < 60
