import dataclasses
import os
import subprocess
import sys
import time

import orjson
import pytest

from local import stack
from local.bench import bodies, drain, procs
from local.bench.plan import FULL, QUICK
from local.bench.processes import served_like


@pytest.mark.parametrize(
    ("indexdef", "expected"),
    [
        (
            'CREATE INDEX events_project_time ON ONLY public.events USING btree (project_id, "timestamp")',
            'CREATE INDEX ON floor_t USING btree (project_id, "timestamp")',
        ),
        (
            "CREATE UNIQUE INDEX event_ids_pkey ON public.event_ids USING btree (event_id)",
            "CREATE UNIQUE INDEX ON floor_t USING btree (event_id)",
        ),
        (
            "CREATE INDEX event_ids_received_at ON public.event_ids USING brin (received_at)",
            "CREATE INDEX ON floor_t USING brin (received_at)",
        ),
    ],
)
def test_floor_index_sql_retargets_an_index(indexdef, expected):
    assert drain.floor_index_sql(indexdef, "floor_t") == expected


def test_floor_index_sql_refuses_anything_else():
    with pytest.raises(ValueError, match="not an index definition"):
        drain.floor_index_sql("DROP TABLE events", "floor_t")


def test_chunks_end_at_line_ends_and_keep_every_byte():
    data = b"".join(f"row {i}\t{'x' * (i % 7)}\n".encode() for i in range(500))
    pieces = drain.chunks(data, 100)
    assert b"".join(pieces) == data
    assert all(p.endswith(b"\n") for p in pieces)
    assert len(pieces) > 10
    assert drain.chunks(b"", 100) == []
    assert drain.chunks(b"one\n", 100) == [b"one\n"]


def test_hello_is_served_by_ingests_own_command():
    ingest = stack.function_named("ingest")
    theirs = stack.function_command(ingest, 9001)
    ours = served_like(ingest, 9001, "local/bench/hello.py", "hello")
    differ = [(a, b) for a, b in zip(theirs, ours, strict=True) if a != b]
    assert differ == [(stack.function_app(ingest), stack.function_app(ingest, "local/bench/hello.py", "hello"))]
    assert stack.function_app(ingest, "local/bench/hello.py", "hello") == stack.function_app(ingest).replace(
        "'functions/main.py', 'ingest'", "'local/bench/hello.py', 'hello'"
    )


def test_bodies_are_valid_events_and_deterministic():
    batch = orjson.loads(bodies.batch_bodies(2, 100, "2026-01-01T00:00:00Z")[1])
    assert len(batch) == 100
    assert {"user_id", "action", "element", "duration", "timestamp", "session_id"} == set(batch[0])
    assert bodies.single_bodies(3, None) == bodies.single_bodies(3, None)
    assert "timestamp" not in orjson.loads(bodies.batch_bodies_at(7, 10, None))[0]
    assert bodies.batch_bodies_at(1, 100, "2026-01-01T00:00:00Z") == bodies.batch_bodies(2, 100, "2026-01-01T00:00:00Z")[1]


def test_quick_is_smaller_and_shorter_than_full():
    for field in dataclasses.fields(FULL):
        full, quick = getattr(FULL, field.name), getattr(QUICK, field.name)
        if isinstance(full, int) and field.name not in ("connections", "read_connections", "batch_size", "freshness_events_per_second"):
            assert quick <= full, field.name
    assert QUICK.large_events > QUICK.small_events
    assert "quick" in QUICK.describe()


def test_process_tree_and_memory_of_a_child():
    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(30 * 2**20); time.sleep(30)"])
    try:
        sampler = procs.MemorySampler(interval_seconds=0.05)
        sampler.watch("child", child.pid)
        deadline = time.monotonic() + 10
        while (procs.status_kb(child.pid, "VmHWM") or 0) < 30 * 1024 and time.monotonic() < deadline:
            time.sleep(0.05)
        sampler.sample()
        assert child.pid in procs.tree(os.getpid())
        peak = sampler.peak_mb()["child"]
        assert peak["max_mb"] >= 30
        assert list(peak["processes"]) == [str(child.pid)]
    finally:
        child.kill()
        child.wait()


def test_cpu_meter_splits_the_machine_between_us_and_others():
    meter = procs.CpuMeter()
    started = time.process_time()
    while time.process_time() - started < 0.3:
        pass
    reading = meter.read()
    assert set(reading) == {"seconds", "machine_cores", "bench_cores", "others_cores"}
    assert reading["bench_cores"] > 0
    assert reading["others_cores"] >= 0
