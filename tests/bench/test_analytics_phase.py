"""The bench's analytics phase on a database given as it is: measured, and left exactly as it was."""

import dataclasses
import datetime as dt

import pytest

from engine import config
from engine.db import postgres
from local import generate
from local.bench import reads
from local.bench.__main__ import main
from local.bench.context import Bench
from local.bench.load import wrk_path
from local.bench.plan import QUICK
from local.bench.processes import Functions
from local.bench.run import OVERRIDES
from local.bench.stores import open_stores, scratch_database

pytestmark = pytest.mark.integration

TINY = dataclasses.replace(QUICK, warmup_seconds=1, read_seconds=1, connections=2)
EVENTS = 3_000


def count_events(url: str) -> int:
    conn = postgres.connect(url, application_name="analytics-test", statement_timeout_ms=60_000, io_timeout_seconds=30)
    try:
        return conn.run("SELECT count(*) FROM events")[0][0]
    finally:
        conn.close()


def test_the_analytics_phase_measures_a_filled_database_and_leaves_its_events(tmp_path):
    database_url, redis_url = config.test_service_urls()
    with scratch_database(database_url) as filled:
        generate.generate(filled, generate.Shape(EVENTS, dt.datetime.now(dt.UTC).replace(microsecond=0), days=30))
        with open_stores(tmp_path, filled, redis_url, as_is=True) as stores:
            assert stores.database_url == filled and stores.describe().startswith("the PostgreSQL database given, as it is")
            functions = Functions(stores, tmp_path / "logs", OVERRIDES)
            try:
                functions.start()
                bench = Bench(TINY, stores, functions, "wrk" if wrk_path() else "builtin", "2026-01-01T00:00:00Z")
                figures = {f.key: f for f in reads.measure_analytics(bench)}
            finally:
                functions.stop()
        assert set(figures) == {
            "export_csv_seconds",
            "export_csv_rss",
            "timeseries_90d_p99",
            "breakdown_30d_p99",
            "funnel_30d_seconds",
            "retention_12w_seconds",
        }
        assert figures["export_csv_seconds"].details["rows"] == EVENTS
        assert count_events(filled) == EVENTS  # measured as it is: nothing emptied, nothing added


@pytest.mark.parametrize(
    ("argv", "refusal"),
    [
        (["--only", "analytics"], "give it with --database-url"),
        (["--only", "reads,analytics", "--database-url", "postgresql://x/y"], "only analytics may run on it"),
        (["--database-url", "postgresql://x/y"], "only analytics may run on it"),
    ],
)
def test_a_database_given_as_is_runs_only_the_read_only_phase(argv, refusal, capsys):
    assert main(argv) == 2
    assert refusal in capsys.readouterr().err
