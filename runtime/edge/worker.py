"""The gunicorn worker every listener of the stack runs: uvicorn's, with the edge's bounds.

    gunicorn APP --worker-class runtime.edge.worker.EdgeWorker

Importing this module in gunicorn's master (which loads the worker class before it forks)
makes the shared connection table (engine.connstats) that the workers then count into.
"""

from __future__ import annotations

import resource

from uvicorn_worker import UvicornWorker

from engine import config, connstats  # connstats: imported here, its table exists before the fork
from runtime.edge.protocol import Bounds

# Descriptors kept for what a worker opens besides client connections (Redis, PostgreSQL, logs).
RESERVED_DESCRIPTORS = 64


def raise_descriptor_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class EdgeWorker(UvicornWorker):
    """UvicornWorker (httptools, uvloop) with GuardedProtocol and the timeouts from the settings."""

    CONFIG_KWARGS = {"loop": "auto", "http": "runtime.edge.protocol:GuardedProtocol", "lifespan": "off"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = config.get_settings()
        self.config.timeout_keep_alive = settings.idle_timeout_seconds
        self.max_connections = settings.max_connections
        self.config.edge_bounds = Bounds(settings.header_timeout_seconds, settings.body_timeout_seconds, settings.max_connections)

    def init_process(self) -> None:
        connstats.claim()
        descriptors = raise_descriptor_limit()
        # A limit beyond what the process may open would fail at accept() instead of closing cleanly.
        limit = min(self.max_connections, descriptors - RESERVED_DESCRIPTORS)
        self.config.edge_bounds = Bounds(self.config.edge_bounds.header_seconds, self.config.edge_bounds.body_seconds, limit)
        super().init_process()
