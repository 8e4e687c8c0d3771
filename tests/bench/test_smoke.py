"""A tiny run of the benchmark's pieces against real servers: it checks behaviour, never speed."""

import dataclasses

import pytest

from engine import config
from engine.buffer import dedupe
from engine.buffer.keys import Keys
from local.bench import dedupe_append, drain, freshness, reads, scaleout, writes
from local.bench.context import Bench
from local.bench.load import wrk_path
from local.bench.plan import QUICK
from local.bench.processes import Functions
from local.bench.run import OVERRIDES
from local.bench.stores import delete_namespace, open_stores

pytestmark = pytest.mark.integration

TINY = dataclasses.replace(
    QUICK,
    warmup_seconds=1,
    load_seconds=1,
    rounds=1,
    connections=4,
    xadd_floor_events=2_000,
    freshness_seconds=3,
    freshness_events_per_second=50,
    read_seconds=1,
    small_events=2_000,
    large_events=4_000,
    ceiling_seconds=1,
    scale_events=600,
    append_requests=5,
)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    database_url, redis_url = config.test_service_urls()
    root = tmp_path_factory.mktemp("bench")
    with open_stores(root, database_url, redis_url) as stores:
        functions = Functions(stores, root / "logs", OVERRIDES)
        try:
            functions.start()
            yield Bench(TINY, stores, functions, "wrk" if wrk_path() else "builtin", "2026-01-01T00:00:00Z")
        finally:
            functions.stop()


def test_every_figure_is_measured_against_its_floor(bench):
    figures = [f for phase in (writes, drain, freshness, reads) for f in phase.measure(bench)]
    by_key = {f.key: f for f in figures}
    for key in ("post_event", "post_events", "generator_ceiling", "drain", "metrics_p99_4000"):
        assert by_key[key].value > 0, key
        assert by_key[key].floor > 0, key
        assert by_key[key].note == "", (key, by_key[key].note)
    paced = by_key["post_event_p99"]  # no floor: a latency at a rate set by the post_event figure
    assert paced.value > 0 and paced.note == ""
    assert abs(paced.details["requests"] - paced.details["rate"] * TINY.load_seconds) <= 2  # every request it was due to send
    drained = by_key["drain"].details
    assert drained["committed"] == drained["stream"] > 0  # every appended event became one row
    assert drained["floor_rows"] == drained["committed"]
    fresh = by_key["freshness_p50"].details
    assert fresh["acknowledged"] > 0 and fresh["never_counted"] == 0
    assert by_key["freshness_p99"].value >= by_key["freshness_p50"].value > 0
    assert by_key["metrics_busy_p99"].value > 0
    assert by_key["view_refresh"].details["answer"]["status"] == "refreshed"
    for key in (
        "timeseries_90d_p99",
        "breakdown_30d_p99",
        "funnel_30d_seconds",
        "retention_12w_seconds",
        "export_csv_seconds",
        "export_csv_rss",
    ):
        assert by_key[key].value > 0, key
        assert by_key[key].note == "", (key, by_key[key].note)
    exported = by_key["export_csv_seconds"].details
    assert exported["rows"] == exported["held_before"] > 0  # every event of the project in the range, each once
    assert bench.functions.dead() == []


def test_drain_scale_out_drains_every_event_once_with_each_shard_count_and_leaves_no_keys(bench):
    figures = list(scaleout.measure(bench))
    assert [f.key for f in figures] == ["drain_shards_1", "drain_shards_2", "drain_shards_4"]
    for figure, shards in zip(figures, scaleout.SHARD_COUNTS, strict=True):
        details = figure.details
        assert details["appended"] == details["committed"] == 600, figure.key
        assert len(details["per_drain_cores"]) == shards
        assert set(details["cores"]) == {"drains", "postgres", "redis", "machine"}
        assert figure.value > 0 and not figure.note.endswith("rows committed")
    assert figures[0].floor is None and figures[1].floor == figures[2].floor == figures[0].value
    client = bench.redis()
    try:
        for shards in scaleout.SHARD_COUNTS:
            assert list(client.scan_iter(match="{" + scaleout.namespace_for(bench, shards) + "[}.]*")) == []
    finally:
        client.close()


def test_dedupe_append_runs_both_layouts_on_the_same_new_ids_and_leaves_no_keys(bench):
    (figure,) = dedupe_append.measure(bench)
    assert figure.key == "post_events_dedupe" and figure.value > 0 and figure.floor > 0
    assert figure.note.startswith("the append call alone"), figure.note  # every event of every round accepted, both sides
    rounds = figure.details["rounds"]
    slices = TINY.rounds * dedupe_append.SLICES_PER_ROUND
    assert [len(rounds["before"]), len(rounds["after"])] == [slices, slices]
    assert all(r["accepted"] == dedupe_append.BATCH for side in rounds.values() for r in side)  # TINY: 5 requests a round, one a slice
    assert set(figure.details["redis_cpu_us_per_event"]) == {"before", "after"}
    assert all(r["events"] == dedupe_append.BATCH and r["redis_cpu_seconds"] >= 0 for side in rounds.values() for r in side)
    assert figure.details["filled_marks"] == (dedupe_append.WARMUP_REQUESTS + slices) * dedupe_append.BATCH
    client = bench.redis()
    try:
        for side in ("before", "after"):
            assert list(client.scan_iter(match="{" + f"{bench.stores.namespace}.{side}" + "}*")) == []
    finally:
        client.close()


def test_the_dedupe_append_fill_leaves_a_full_previous_bucket_and_as_many_text_keys(bench):
    client = bench.redis()
    namespace = f"{bench.stores.namespace}.fill"
    try:
        dedupe_append.fill_marks(client, namespace, 3600, 2500, 256)
        seen = Keys.for_namespace(f"{namespace}.after").seen
        previous = client.time()[0] * 1000 // 3_600_000 - 1
        index = client.hgetall(seen)
        # The filled bucket is the one before the current one, sized from the (recorded) one before it.
        assert (index[f"{previous}:t".encode()], index[str(previous).encode()]) == (b"2500", b"1024")
        assert dedupe.marks_held(client, seen) == 2500 + 2500  # the bucket before it is only recorded
        before = Keys.for_namespace(f"{namespace}.before")
        assert len(list(client.scan_iter(match=f"{before.seen}:*", count=1000))) == 2500
        assert client.exists(before.stream, Keys.for_namespace(f"{namespace}.after").stream) == 0
    finally:
        client.close()
        delete_namespace(bench.stores.redis_url, namespace)
