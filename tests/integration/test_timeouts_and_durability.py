"""Every PostgreSQL and Redis call is bounded in time; ingest's durability policy on real servers."""

import dataclasses
import datetime as dt
import socket
import threading
import time

import pytest
import redis

from engine import clients
from engine.buffer.facts import server_facts
from engine.core import durability
from engine.core.errors import ServiceUnavailable
from engine.core.pipeline import check_batch
from engine.db import postgres, queries
from tests.factories import make_event
from tests.helpers import append_checked

pytestmark = pytest.mark.integration


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word (a hung database)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_postgres_that_never_answers_times_out(silent_server):
    started = time.monotonic()
    with pytest.raises((postgres.InterfaceError, OSError)):
        postgres.connect(
            f"postgresql://postgres@127.0.0.1:{silent_server}/x", application_name="t", statement_timeout_ms=100, io_timeout_seconds=0.5
        )
    # the socket timeout is the statement timeout plus 5 s of grace, so a slow query is not a dead server
    assert time.monotonic() - started < 6.5


def test_redis_that_never_answers_times_out(silent_server):
    client = redis.Redis(host="127.0.0.1", port=silent_server, socket_timeout=0.5, socket_connect_timeout=0.5, retry=None)
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        client.ping()
    assert time.monotonic() - started < 3
    client.close()


def facts(settings):
    return server_facts(clients.redis_client(settings))


def test_policy_on_this_redis(settings):
    found = facts(settings)
    strict = dataclasses.replace(settings, durability="strict")
    production = dataclasses.replace(settings, env="production")
    if found.waitaof or found.appendfsync == "always":
        assert durability.refusal(found, strict.durability, strict.env) is None
    else:
        assert durability.refusal(found, strict.durability, strict.env).startswith(
            "ANALYTICS_DURABILITY=strict needs Redis >= 7.2 (WAITAOF) or appendfsync always"
        )
    if found.persistent is False:
        assert durability.refusal(found, production.durability, production.env).startswith("Redis keeps nothing on disk")
    else:
        assert durability.refusal(found, production.durability, production.env) is None


def test_ingest_refuses_when_the_policy_does(settings, rclient, keys):
    found = facts(settings)
    strict = dataclasses.replace(settings, durability="strict")
    if durability.refusal(found, strict.durability, strict.env) is None:
        pytest.skip(f"this Redis ({found.version}, appendfsync {found.appendfsync}) satisfies strict durability")
    now = dt.datetime.now(dt.UTC)
    clients.reset()
    with pytest.raises(ServiceUnavailable) as caught:
        append_checked(strict, check_batch([make_event()], now, 0), 1, now, "r")
    assert caught.value.status == 503 and caught.value.headers == {"Retry-After": "5"}
    assert rclient.xlen(keys.stream) == 0  # nothing half-done


def test_every_connection_is_utc_bounded_and_without_jit(settings):
    conn = postgres.connect(settings.database_url, application_name="analytics-tests", statement_timeout_ms=4321, io_timeout_seconds=5)
    try:
        assert conn.run("SELECT current_setting('TimeZone'), current_setting('statement_timeout'), current_setting('jit')")[0] == [
            "UTC",
            "4321ms",
            "off",
        ]
    finally:
        conn.close()


def test_a_prepared_statement_is_made_once_per_connection_and_again_after_a_failure(conn):
    queries.run_prepared(conn, "metrics_all_time", project_id=1)
    first = queries.prepared(conn)["metrics_all_time"]
    queries.run_prepared(conn, "metrics_all_time", project_id=1)
    assert queries.prepared(conn)["metrics_all_time"] is first
    with pytest.raises(postgres.DatabaseError):
        queries.run_prepared(conn, "metrics_all_time", project_id="not a number")
    assert "metrics_all_time" not in queries.prepared(conn)
    assert queries.run_prepared(conn, "metrics_all_time", project_id=1) == [[0, 0]]
