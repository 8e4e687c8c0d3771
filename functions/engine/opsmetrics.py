"""GET /internal/metrics: the pipeline's ops counters in Prometheus text format.

The counters live in one Redis hash that every process of every function adds to (a
stateless function's in-process counters would reset with each instance, and each gunicorn
worker would report only its own share), so any function answers for the whole pipeline.
"""

from __future__ import annotations

import flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from engine import clients, connstats
from engine.buffer import bookkeeping, dedupe
from engine.config import Settings
from engine.core import auth
from engine.core import constants as c

COUNTERS = {
    "accepted": ("analytics_events_accepted", "Events appended to the stream (202)"),
    "duplicates": ("analytics_events_duplicate", "Events answered as duplicates of a recent event_id"),
    "drained": ("analytics_events_drained", "Rows inserted into PostgreSQL by the drain"),
    "drain_duplicates": ("analytics_drain_duplicates", "Stream entries whose event_id already had a row"),
    "dead_lettered": ("analytics_events_dead_lettered", "Stream entries moved to dead_letters"),
    "reclaimed": ("analytics_entries_reclaimed", "Pending entries taken over from a dead or stuck drain"),
    "drain_runs": ("analytics_drain_runs", "Drain invocations"),
}
REJECTED_PREFIX = "rejected:"
DROPPED_PREFIX = "dropped:"


class PipelineCollector:
    """Reads the counters and the stream's gauges from Redis at scrape time."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def collect(self):
        rclient, keys = clients.redis_client(self.settings), clients.stream_keys(self.settings)
        counters = bookkeeping.read_counters(rclient, keys, clients.stream_shards(self.settings))
        for key, (name, help_text) in COUNTERS.items():
            family = CounterMetricFamily(name, help_text)
            family.add_metric([], counters.get(key, 0))
            yield family
        rejected = CounterMetricFamily("analytics_events_rejected", "Events refused at ingest, by reason", labels=["reason"])
        for key, value in sorted(counters.items()):
            if key.startswith(REJECTED_PREFIX):
                rejected.add_metric([key[len(REJECTED_PREFIX) :]], value)
        yield rejected
        dropped = CounterMetricFamily("analytics_events_dropped", "Valid events not appended at ingest, by reason", labels=["reason"])
        for key, value in sorted(counters.items()):
            if key.startswith(DROPPED_PREFIX):
                dropped.add_metric([key[len(DROPPED_PREFIX) :]], value)
        yield dropped
        backlog, oldest_age, _ = bookkeeping.pipeline_facts(rclient, keys, bookkeeping.now_ms(), clients.stream_shards(self.settings))
        yield GaugeMetricFamily("analytics_stream_backlog", "Stream entries not yet in PostgreSQL", value=backlog)
        yield GaugeMetricFamily(
            "analytics_stream_oldest_age_seconds", "Age of the oldest undrained entry (0 when none)", value=oldest_age or 0.0
        )
        marks = sum(dedupe.marks_held(rclient, shard.seen) for shard in clients.stream_shards(self.settings))
        yield GaugeMetricFamily("analytics_dedupe_marks", "Client event_ids remembered for the dedupe window", value=marks)
        yield GaugeMetricFamily(
            "analytics_dedupe_bytes_estimate",
            "Redis memory of the dedupe marks (marks x measured bytes a mark)",
            value=marks * c.DEDUPE_BYTES_PER_MARK,
        )
        facts = clients.redis_facts(self.settings)
        yield GaugeMetricFamily("analytics_redis_used_memory_bytes", "Redis used_memory", value=facts.used_memory)
        yield GaugeMetricFamily("analytics_redis_maxmemory_bytes", "Redis maxmemory (0: none set)", value=facts.maxmemory or 0)


class EdgeCollector:
    """This listener's connections (engine.connstats: every worker process of the server that answers)."""

    def collect(self):
        totals = connstats.totals()
        yield GaugeMetricFamily("analytics_edge_connections_open", "Client connections open on this listener", value=totals["open"])
        closed = CounterMetricFamily(
            "analytics_edge_connections_closed", "Client connections this listener closed, by the bound they passed", labels=["bound"]
        )
        for bound in connstats.BOUNDS:
            closed.add_metric([bound], totals[bound])
        yield closed


PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def edge_metrics() -> bytes:
    """The edge's families alone, in Prometheus text format (the gateway's /internal/metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EdgeCollector())
    return generate_latest(registry)


def internal_metrics(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    auth.require_task_token(settings.task_token, request.headers)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector(settings))
    registry.register(EdgeCollector())
    return flask.Response(generate_latest(registry), mimetype=PROMETHEUS_TEXT)
