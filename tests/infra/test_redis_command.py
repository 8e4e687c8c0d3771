"""The compose file's Redis command, run for real by a real redis-server: the password arrives
on stdin (never on a command line), and the persistence and eviction settings hold.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess

import pytest
import redis

from local.embedded import redis_server_binary
from tests.e2e.stack import free_port_block, wait_for
from tests.infra import compose

# The official image's entrypoint re-executes itself as the redis user and puts
# `--protected-mode no` right after `redis-server`; this stand-in puts this test's own
# port, address and directory there instead, and keeps the command's last argument last.
FAKE_ENTRYPOINT = """#!/bin/sh
shift
exec "$REDIS_SERVER" --port "$TEST_PORT" --bind 127.0.0.1 --dir "$TEST_DIR" --protected-mode no "$@"
"""


def server_binary() -> str:
    found = shutil.which("redis-server")
    return found or str(redis_server_binary())


@pytest.fixture
def redis_from_compose(tmp_path):
    config = compose.load_compose(compose.filled_env())
    service = config["services"]["redis"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    entrypoint = bin_dir / "docker-entrypoint.sh"
    entrypoint.write_text(FAKE_ENTRYPOINT)
    entrypoint.chmod(0o755)
    password = secrets.token_hex(32)
    port = free_port_block(1)
    env = {
        **os.environ,
        **service["environment"],
        "REDIS_PASSWORD": password,
        "REDIS_MAXMEMORY": "64mb",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "REDIS_SERVER": server_binary(),
        "TEST_PORT": str(port),
        "TEST_DIR": str(tmp_path),
    }
    process = subprocess.Popen(service["command"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=5)
    try:
        wait_for(lambda: _answers(client), timeout=20, interval=0.1)
        yield process, client, port, password
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def test_it_keeps_an_append_only_file_fsynced_every_second_and_never_evicts(redis_from_compose):
    _, client, _, _ = redis_from_compose
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert client.config_get("maxmemory") == {"maxmemory": str(64 * 1024 * 1024)}


def test_it_refuses_clients_without_the_password(redis_from_compose):
    _, _, port, _ = redis_from_compose
    anonymous = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    anonymous.close()


def test_the_password_reaches_redis_on_stdin_and_on_no_command_line(tmp_path):
    """Redis rewrites its own process title, so the argv is read where the shell hands it over."""
    service = compose.load_compose(compose.filled_env())["services"]["redis"]
    (tmp_path / "docker-entrypoint.sh").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$TEST_DIR/argv"\ncat > "$TEST_DIR/stdin"\n')
    (tmp_path / "docker-entrypoint.sh").chmod(0o755)
    password = secrets.token_hex(32)
    env = {**os.environ, **service["environment"], "REDIS_PASSWORD": password, "TEST_DIR": str(tmp_path)}
    env["PATH"] = f"{tmp_path}{os.pathsep}{env['PATH']}"
    subprocess.run(service["command"], env=env, check=True, timeout=30)
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv[0] == "redis-server" and argv[-1] == "-" and password not in " ".join(argv)
    assert (tmp_path / "stdin").read_text() == f'requirepass "{password}"\n'
