"""Every listener a client can reach holds slow and idle clients without starving the others,
closes them at their bounds, counts what it closed, and cuts a stalled body before storing any of it.

Real servers from the process table, on loopback. The only timing asserted is the issue's liveness
bound: a normal client is answered within 1 s while the crowd is held.
"""

from __future__ import annotations

import json
import socket

import orjson
import pytest
import redis

from engine.buffer.keys import Keys
from tests.conftest import READ_KEY, TASK_TOKEN, WRITE_KEY
from tests.edge.harness import Crowd, EdgeStack, raise_descriptor_limit, request, timed
from tests.factories import make_event

SLOW = 1000
IDLE = 1000
ROUNDS = 20
LIVENESS_SECONDS = 1.0
HOLD_SECONDS = 20  # header and idle bounds of this stack: long enough to hold the crowd through the rounds
BODY_SECONDS = 2


@pytest.fixture(scope="module")
def edge(function_env, tmp_path_factory):
    raise_descriptor_limit(2 * (SLOW + IDLE) + 512)
    env = {
        **function_env,
        "ANALYTICS_HEADER_TIMEOUT_SECONDS": str(HOLD_SECONDS),
        "ANALYTICS_IDLE_TIMEOUT_SECONDS": str(HOLD_SECONDS),
        "ANALYTICS_BODY_TIMEOUT_SECONDS": str(BODY_SECONDS),
    }
    running = EdgeStack(tmp_path_factory.mktemp("edge"), env).start()
    yield running
    running.stop()


@pytest.fixture
def stream_length(function_env):
    client = redis.Redis.from_url(function_env["ANALYTICS_REDIS_URL"])
    stream = Keys.for_namespace(function_env["ANALYTICS_REDIS_NAMESPACE"]).stream
    yield lambda: client.xlen(stream)
    client.close()


def post_event(port: int):
    body = orjson.dumps(make_event())
    return request("POST", port, "/event", body, {"X-Write-Key": WRITE_KEY, "Content-Type": "application/json"})


def get_metrics(port: int):
    return request("GET", port, "/metrics", headers={"Authorization": f"Bearer {READ_KEY}"})


@pytest.mark.parametrize("name", ["gateway", "ingest"])
def test_a_crowd_of_slow_and_idle_clients_is_held_while_a_normal_client_is_answered(edge, name):
    before = edge.edge_counts(name, TASK_TOKEN)
    metrics_port = edge.port("gateway" if name == "gateway" else "metrics")
    crowd = Crowd(edge.port(name))
    try:
        resident = edge.memory_bytes(name)
        crowd.open(slow=0, idle=IDLE)
        idle_memory = edge.memory_bytes(name) - resident
        crowd.open(slow=SLOW, idle=0)
        slowest = 0.0
        for _ in range(ROUNDS):
            for call in (lambda: post_event(edge.port(name)), lambda: get_metrics(metrics_port)):
                seconds, (status, body) = timed(call)
                assert status in (200, 202), body
                assert seconds < LIVENESS_SECONDS
                slowest = max(slowest, seconds)
        held = crowd.still_open()
        assert held == (SLOW, IDLE)
        slow_answers, idle_answers = crowd.wait_closed(timeout=HOLD_SECONDS + 40)
    finally:
        crowd.close()
    # A client that sent part of its headers is told why; an idle one is simply closed.
    assert [a[:28] for a in slow_answers] == [b"HTTP/1.1 408 Request Timeout"] * SLOW
    assert idle_answers == [b""] * IDLE
    after = edge.edge_counts(name, TASK_TOKEN)
    assert after["header_timeout"] - before["header_timeout"] == SLOW
    assert after["idle_timeout"] - before["idle_timeout"] == IDLE
    assert after["connection_limit"] == before["connection_limit"]
    figures = {"listener": name, "held_slow": held[0], "held_idle": held[1], "slowest_normal_answer_s": round(slowest, 3)}
    print(json.dumps({**figures, "memory_per_1000_idle_mib": round(idle_memory / 2**20 * 1000 / IDLE, 1)}))


@pytest.mark.parametrize("name", ["gateway", "ingest"])
def test_a_body_that_stalls_half_way_is_cut_at_the_body_timeout_and_nothing_is_stored(edge, name, stream_length):
    body = orjson.dumps(make_event())
    before_counts, before_length = edge.edge_counts(name, TASK_TOKEN), stream_length()
    with socket.create_connection(("127.0.0.1", edge.port(name)), timeout=BODY_SECONDS + 20) as sock:
        head = f"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Write-Key: {WRITE_KEY}\r\nContent-Type: application/json\r\n"
        sock.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body[: len(body) // 2])
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "request_timeout"
    assert stream_length() == before_length
    after_counts = edge.edge_counts(name, TASK_TOKEN)
    assert after_counts["body_timeout"] - before_counts["body_timeout"] == 1


def test_the_gateway_shows_its_connection_counts_to_the_task_token_alone(edge):
    for headers in ({}, {"Authorization": "Bearer not-the-task-token-at-all"}):
        status, body = request("GET", edge.port("gateway"), "/internal/metrics", headers=headers)
        assert (status, json.loads(body)["error"]["code"]) == (404, "not_found")
    assert set(edge.edge_counts("gateway", TASK_TOKEN)) == {"open", "header_timeout", "body_timeout", "idle_timeout", "connection_limit"}
