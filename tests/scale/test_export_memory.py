"""GET /export/events of 1,000,000 events through the served metrics function and the gateway
(gunicorn + uvicorn workers, as `make run` serves them), in bounded memory: the peak RSS of
every process of each server, sampled while the export streams, stays under the bound.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import subprocess
import time
from urllib.parse import urlencode

import pytest

from engine.db import postgres
from local import stack
from local.bench.procs import ResidentPeak
from tests.conftest import READ_KEY
from tests.e2e.stack import clean_env, free_port_block
from tests.faults.harness import ARTIFACTS
from tests.scale.functions import ROOT, FunctionProcess

pytestmark = pytest.mark.scale

EVENTS = 1_000_000
RSS_BOUND_MB = 150
END = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
START = END - dt.timedelta(days=10)
# Server-side rows: ~10 days of events, 5,000 people, a few actions and elements, a small properties object.
LOAD = """
INSERT INTO events (event_id, project_id, user_id, action, element, duration, "timestamp", received_at, session_id, properties)
SELECT gen_random_uuid(), 1, 'user_' || (g % 5000), (ARRAY['view', 'click', 'play'])[1 + g % 3], 'element_' || (g % 40),
       (g % 600) / 10.0, CAST(:start AS timestamptz) + (g * interval '863 milliseconds'), CAST(:start AS timestamptz),
       's' || (g / 20), jsonb_build_object('plan', (ARRAY['free', 'pro'])[1 + g % 2], 'n', g)
FROM generate_series(0, CAST(:events AS integer) - 1) AS g
"""


@pytest.fixture
def export_stack(function_env, settings):
    conn = postgres.connect(settings.database_url, application_name="analytics-tests", statement_timeout_ms=600_000, io_timeout_seconds=60)
    try:
        conn.run(LOAD, start=START, events=EVENTS)
        conn.run("ANALYZE events")
    finally:
        conn.close()
    base = free_port_block(5)
    logs = ARTIFACTS / "scale-export"
    metrics = FunctionProcess("metrics", base + 1, function_env, logs).start()
    urls = {name: f"http://127.0.0.1:{base + 4}" for name in ("ANALYTICS_INGEST_URL", "ANALYTICS_DRAIN_URL", "ANALYTICS_REFRESH_URL")}
    env = clean_env(
        **function_env, **urls, ANALYTICS_METRICS_URL=f"http://127.0.0.1:{base + 1}", PYTHONPATH=f"{ROOT / 'functions'}{os.pathsep}{ROOT}"
    )
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"gateway-{base}.log").open("ab") as out:
        gateway_proc = subprocess.Popen(
            stack.gateway_command("127.0.0.1", base), env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True
        )
    try:
        metrics.wait_ready()
        wait_for(base, "/healthz")
        yield metrics, gateway_proc, base
    finally:
        metrics.stop()
        if gateway_proc.poll() is None:
            os.killpg(gateway_proc.pid, 15)
            gateway_proc.wait(10)


def wait_for(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise AssertionError(f"nothing answered on {port} within {timeout} s")


def test_an_export_of_a_million_events_as_csv_streams_through_gateway_and_function_in_bounded_memory(export_stack):
    metrics, gateway_proc, port = export_stack
    query = urlencode({"from": START.isoformat(), "to": END.isoformat(), "format": "csv"})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    lines, size, started = 0, 0, time.perf_counter()
    with ResidentPeak(metrics.proc.pid) as function_rss, ResidentPeak(gateway_proc.pid) as gateway_rss:
        connection.request("GET", f"/export/events?{query}", headers={"Authorization": f"Bearer {READ_KEY}"})
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Length") is None  # streamed (chunked), never buffered whole
        while chunk := response.read(1 << 16):
            lines += chunk.count(b"\n")
            size += len(chunk)
    seconds = time.perf_counter() - started
    connection.close()
    assert lines == EVENTS + 1  # the header row and one line a row (no value here holds a newline)
    peaks = {"function": round(function_rss.max_mb, 1), "gateway": round(gateway_rss.max_mb, 1)}
    print(f"export of {EVENTS} events as CSV: {seconds:.1f} s, {size / 1e6:.0f} MB, peak RSS {peaks} MB, load {os.getloadavg()}")
    assert 0 < peaks["function"] < RSS_BOUND_MB, peaks
    assert 0 < peaks["gateway"] < RSS_BOUND_MB, peaks
    assert gateway_proc.poll() is None
