"""The PostgreSQL and Redis a run measures: embedded ones it starts, or scratch space on configured ones.

Embedded (the default): the same servers `make run` starts (durable PostgreSQL, Redis with
its append-only file), their data under the run's directory, deleted at the end. Configured
(ANALYTICS_DATABASE_URL / ANALYTICS_REDIS_URL): a database of its own on that server and a
Redis namespace of its own, both removed at the end, so the machine's servers keep nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from engine.db import migrate, postgres
from local.embedded import EmbeddedPostgres, EmbeddedRedis

SCRATCH_PREFIX = "analytics_bench_"
STALE_SCRATCH_SECONDS = 6 * 3600
READER_ROLE = "analytics_reader"


@dataclasses.dataclass(frozen=True)
class Stores:
    database_url: str
    redis_url: str
    namespace: str
    embedded_postgres: bool
    embedded_redis: bool
    database_as_is: bool = False

    def describe(self) -> str:
        if self.database_as_is:
            pg = "the PostgreSQL database given, as it is"
        else:
            pg = "embedded PostgreSQL" if self.embedded_postgres else "PostgreSQL at ANALYTICS_DATABASE_URL (scratch database)"
        rd = "embedded Redis" if self.embedded_redis else "Redis at ANALYTICS_REDIS_URL (scratch namespace)"
        return f"{pg}, {rd}"


def _admin(url: str):
    target = postgres.parse_database_url(url).with_database("postgres")
    return postgres.connect(target, application_name="analytics-bench", statement_timeout_ms=120_000, io_timeout_seconds=30)


def _drop_stale_scratch(admin) -> None:
    """Drop scratch databases that a killed run left behind hours ago."""
    for (name,) in admin.run("SELECT datname FROM pg_database WHERE datname LIKE :p", p=SCRATCH_PREFIX + "%"):
        stamp = name[len(SCRATCH_PREFIX) :].split("_")[0]
        if stamp.isdigit() and time.time() - int(stamp) > STALE_SCRATCH_SECONDS:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new, migrated database on the configured server; dropped (with what migrating created) at the end."""
    name = f"{SCRATCH_PREFIX}{int(time.time())}_{secrets.token_hex(3)}"
    admin = _admin(url)
    try:
        _drop_stale_scratch(admin)
        role_existed = bool(admin.run("SELECT 1 FROM pg_roles WHERE rolname = :r", r=READER_ROLE))
        admin.run(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    scratch = postgres.format_database_url(postgres.parse_database_url(url).with_database(name))
    try:
        yield scratch
    finally:
        admin = _admin(url)
        try:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not role_existed:  # the migrations created this cluster-wide role for us
                with contextlib.suppress(postgres.DatabaseError):
                    admin.run(f"DROP ROLE IF EXISTS {READER_ROLE}")
        finally:
            admin.close()


def delete_namespace(redis_url: str, namespace: str) -> int:
    """Delete every key of the namespace: under its hash tag, its stream shards' tags and the tags of
    namespaces named under it (`<namespace>.…`, the scale-out figure's)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=30)
    try:
        deleted = 0
        batch = []
        for key in client.scan_iter(match="{" + namespace + "[}.]*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += client.unlink(*batch)
                batch.clear()
        if batch:
            deleted += client.unlink(*batch)
        return deleted
    finally:
        client.close()


@contextlib.contextmanager
def open_stores(root: Path, database_url: str | None, redis_url: str | None, as_is: bool = False) -> Iterator[Stores]:
    """Yield the run's Stores, migrated; stop or clean everything on the way out.

    as_is: database_url is measured as it is (migrated, never emptied or dropped), for the
    phases that only read what a database already holds (python -m local.bench --database-url).
    """
    data = root / "data"
    servers: list = []
    namespace = f"bench-{secrets.token_hex(4)}"
    with contextlib.ExitStack() as stack:
        try:
            if database_url is None:
                pg = EmbeddedPostgres(data, database="analytics", die_with_parent=True)
                servers.append(pg)
                url = pg.start()
            elif as_is:
                url = database_url
            else:
                url = stack.enter_context(scratch_database(database_url))
            if redis_url is None:
                server = EmbeddedRedis(data, appendonly=True, die_with_parent=True)
                servers.append(server)
                rurl = server.start()
            else:
                rurl = redis_url
                stack.callback(delete_namespace, rurl, namespace)
            migrate.migrate(url)
            yield Stores(url, rurl, namespace, database_url is None, redis_url is None, as_is)
        finally:
            stack.close()
            for server in reversed(servers):
                server.stop(timeout=30)
            if servers:
                shutil.rmtree(data, ignore_errors=True)
