"""The Redis and PostgreSQL a test run uses: configured ones, or embedded ones it starts.

A run always works in its own database (analytics_test_<time>_<hex>) and its own Redis
namespace, and removes both at the end, so the machine's servers keep no test data.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from engine import config
from engine.db import postgres
from local.embedded import EmbeddedPostgres, EmbeddedRedis

ROOT = Path(__file__).resolve().parents[1]
STALE_DATABASE_SECONDS = 6 * 3600


@dataclass
class Services:
    database_url: str
    redis_url: str
    namespace: str
    embedded: bool
    admin_url: str


def _drop_stale_test_databases(admin) -> None:
    """Drop test databases a crashed run left behind more than STALE_DATABASE_SECONDS ago."""
    for (name,) in admin.run("SELECT datname FROM pg_database WHERE datname LIKE 'analytics_test_%'"):
        parts = name.split("_")
        if len(parts) == 4 and parts[2].isdigit() and time.time() - int(parts[2]) > STALE_DATABASE_SECONDS:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


READER_ROLE_USERS = """
SELECT DISTINCT d.datname FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid
WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = 'analytics_reader')
"""


def drop_reader_role(admin) -> None:
    """The migrations' role is cluster-wide: drop it, unless another database still grants it something
    (a concurrent run's, or a real deployment's); then say which, rather than keep it silently."""
    users = [name for (name,) in admin.run(READER_ROLE_USERS)]
    if users:
        print(f"\nanalytics_reader kept: databases {', '.join(sorted(users))} still use it", file=sys.stderr)
        return
    admin.run("DROP ROLE IF EXISTS analytics_reader")


@contextlib.contextmanager
def run_services():
    """Yield the Services of one test run; tear everything down afterwards."""
    pg_url, redis_url = config.test_service_urls()
    embedded_root = None
    servers = []
    if pg_url is None or redis_url is None:
        embedded_root = ROOT / ".local" / f"test-{secrets.token_hex(4)}"
        embedded_root.mkdir(parents=True)
    try:
        if pg_url is None:
            pg = EmbeddedPostgres(embedded_root, database="postgres", durable=False)
            servers.append(pg)
            pg_url = pg.start()
        if redis_url is None:
            server = EmbeddedRedis(embedded_root, appendonly=False)
            servers.append(server)
            redis_url = server.start()
        target = postgres.parse_database_url(pg_url)
        name = f"analytics_test_{int(time.time())}_{secrets.token_hex(3)}"
        admin_target = target.with_database("postgres")
        admin = postgres.connect(admin_target, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30)
        try:
            _drop_stale_test_databases(admin)
            admin.run(f'CREATE DATABASE "{name}"')
        finally:
            admin.close()
        namespace = f"test-{secrets.token_hex(4)}"
        yield Services(
            postgres.format_database_url(target.with_database(name)),
            redis_url,
            namespace,
            embedded_root is not None,
            postgres.format_database_url(admin_target),
        )
        admin = postgres.connect(admin_target, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30)
        try:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            drop_reader_role(admin)
        finally:
            admin.close()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match="{" + namespace + "}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    finally:
        for server in reversed(servers):
            server.stop()
        if embedded_root is not None:
            shutil.rmtree(embedded_root, ignore_errors=True)
