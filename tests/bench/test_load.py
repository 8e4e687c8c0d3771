import os
import signal
import subprocess
import sys
import time

import pytest

from local.bench import loadgen, paced, wrk
from local.bench.load import Load
from local.bench.processes import ROOT
from local.stack import free_port_block
from local.supervisor import probe


def test_requests_are_raw_http_with_each_body_cycled():
    load = Load("http://127.0.0.1:8081/event?key=k", "POST", (b'{"a":1}', b"[]"), (("X-Write-Key", "w"),))
    first, second = load.requests()
    assert first == b'POST /event?key=k HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nX-Write-Key: w\r\nContent-Length: 7\r\n\r\n{"a":1}'
    assert second.endswith(b"Content-Length: 2\r\n\r\n[]")
    assert Load("http://127.0.0.1:9/healthz").requests() == [b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n"]


ANSWER = b"HTTP/1.1 202 ACCEPTED\r\nContent-Length: 2\r\n\r\n{}"


@pytest.mark.parametrize(
    ("buffer", "expected"),
    [
        (ANSWER, (202, len(ANSWER))),
        (ANSWER.replace(b"Content-Length", b"content-length") + b"HTTP/1.1", (202, len(ANSWER))),  # the next answer stays
        (ANSWER[:-1], None),  # body incomplete
        (ANSWER[:30], None),  # head incomplete
        (b"HTTP/1.1 204 NO CONTENT\r\nServer: x\r\n\r\n", (204, 38)),
        (b"HTTP/1.1 401 UNAUTHORIZED\r\nContent-Length: 0\r\n\r\n", (401, 48)),
    ],
)
def test_response_end(buffer, expected):
    assert loadgen.response_end(buffer) == expected


@pytest.mark.parametrize(
    ("text", "literal"),
    [("abc", "[=[abc]=]"), ("a]=]b", "[==[a]=]b]==]"), ('{"x": [1]}', '[=[{"x": [1]}]=]')],
)
def test_lua_string_never_closes_early(text, literal):
    assert wrk.lua_string(text) == literal


def test_lua_script_prebuilds_the_requests():
    script = wrk.lua_script(Load("http://127.0.0.1:1/events", "POST", (b"[1]", b"[2]"), (("X-Write-Key", "k"),)))
    assert "local bodies = { [=[[1]]=], [=[[2]]=] }" in script
    assert "[ [=[X-Write-Key]=] ] = [=[k]=]" in script
    assert "wrk.format([=[POST]=], [=[/events]=], headers, body)" in script
    assert "BENCH-JSON" in script


def test_wrk_summary_becomes_a_result():
    stdout = (
        "Running 1s test\nBENCH-JSON "
        '{"requests": 1000, "duration_us": 2000000, "connect": 0, "read": 1, "write": 0, "status": 9, "timeout": 0, '
        '"p50_us": 1500, "p90_us": 3000, "p99_us": 9000, "max_us": 12000}\n'
    )
    result = wrk.result_from(wrk.parse_output(stdout))
    assert (result.requests, result.errors, result.seconds) == (1000, 10, 2.0)
    assert result.rps == 495.0
    assert result.latency_ms == {"p50": 1.5, "p90": 3.0, "p99": 9.0, "max": 12.0}


def test_wrk_without_summary_says_why():
    with pytest.raises(RuntimeError, match="script failed.*expected near"):
        wrk.parse_output("Running 1s test\n", "load.lua:3: '}' expected near '='")


@pytest.fixture(scope="module")
def trivial_server():
    port = free_port_block(1)
    server = subprocess.Popen([sys.executable, "-m", "local.bench.trivial", str(port), "1"], cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 20
    while probe(f"http://127.0.0.1:{port}/", timeout=1) != 200:
        assert time.monotonic() < deadline and server.poll() is None, "the trivial server did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=10)


def test_builtin_generator_drives_a_server(trivial_server):
    load = Load(f"{trivial_server}/event", "POST", (b'{"a": 1}', b"[" + b"1," * 5000 + b"1]"), (), connections=4, seconds=1)
    result = loadgen.run(load, processes=2)
    assert result.generator == "builtin"
    assert result.requests > 0
    assert result.errors == 0
    assert 0 < result.latency_ms["p50"] <= result.latency_ms["p99"] <= result.latency_ms["max"]


def test_paced_generator_sends_exactly_its_schedule(trivial_server):
    load = Load(f"{trivial_server}/event", "POST", (b'{"a": 1}',), (), connections=4, seconds=2)
    result = paced.run(load, rate=200, processes=2)
    assert (result.generator, result.requests, result.errors) == ("paced", 400, 0)
    assert 0 < result.latency_ms["p50"] <= result.latency_ms["p99"] <= result.latency_ms["max"]


@pytest.mark.skipif(
    wrk.wrk_path() is None and not os.environ.get("CI"), reason="wrk is not installed: `sudo apt-get install wrk` runs this test"
)
def test_wrk_drives_a_server(trivial_server):
    load = Load(f"{trivial_server}/event", "POST", (b'{"a": 1}',), (("X-Write-Key", "k"),), connections=4, seconds=1)
    result = wrk.run(load)
    assert result.generator == "wrk"
    assert result.requests > 0
    assert result.errors == 0
