"""The README's backup and restore (pg_dump --format=custom, then pg_restore --exit-on-error into
an empty database), run with real PostgreSQL tools: the restored database is the same, is
current for the migrations, refreshes its views concurrently and still grants analytics_reader.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.db import migrate, postgres
from local import generate
from local.embedded import EmbeddedError, pg_bin_dir
from tests.helpers import missing

TABLES = (
    "events",
    "event_ids",
    "task_runs",
    "schema_migrations",
    "user_engagement",
    "project_totals",
    "activity_heatmap",
    "element_rankings",
    "rollup_minutes",
    "rollup_minute_users",
    "rollup_users",
    "rollup_totals",
)


def tools_for(conn) -> Path | None:
    """A directory holding pg_dump and pg_restore of the server's major version, if any."""
    major = int(conn.run("SHOW server_version_num")[0][0]) // 10000
    candidates = [Path(found).parent for found in [shutil.which("pg_dump")] if found]
    try:
        candidates.append(pg_bin_dir())
    except EmbeddedError:
        pass
    for directory in candidates:
        version = subprocess.run([directory / "pg_dump", "--version"], capture_output=True, text=True).stdout
        if re.search(rf"\b{major}\.\d+", version) and (directory / "pg_restore").exists():
            return directory
    return None


def libpq_args(target: postgres.Target) -> list[str]:
    host = target.unix_sock.rsplit("/", 1)[0] if target.unix_sock else target.host
    return ["-h", host, "-p", str(target.port), "-U", target.user, "-d", target.database]


def counts(url: str) -> dict[str, int]:
    conn = postgres.connect(url, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30)
    try:
        return {table: conn.run(f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}
    finally:
        conn.close()


@pytest.fixture
def empty_database(services, settings):
    """A second database on the same server, dropped afterwards whatever happens."""
    target = postgres.parse_database_url(settings.database_url)
    name = f"{target.database}_restore"
    admin = postgres.connect(services.admin_url, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30)
    admin.run(f'CREATE DATABASE "{name}"')
    try:
        yield postgres.format_database_url(target.with_database(name))
    finally:
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_dump_restores_into_an_empty_database_as_it_was(settings, conn, empty_database, tmp_path):
    tools = tools_for(conn)
    if tools is None:
        missing("no pg_dump/pg_restore of the server's major version here: install its postgresql-client")
    end = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    generate.generate(settings.database_url, generate.Shape(3000, end, days=3, users=300, elements=40), drain_seconds=120)
    source = postgres.parse_database_url(settings.database_url)
    env = {**os.environ, **({"PGPASSWORD": source.password} if source.password else {})}
    dump = tmp_path / "analytics.dump"
    subprocess.run([tools / "pg_dump", *libpq_args(source), "--format=custom", "--file", str(dump)], env=env, check=True, timeout=120)
    # analytics_reader already exists on this server (roles are cluster-wide): the README creates it first on a fresh one.
    restore = [tools / "pg_restore", *libpq_args(postgres.parse_database_url(empty_database)), "--exit-on-error", str(dump)]
    result = subprocess.run(restore, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr

    expected = counts(settings.database_url)
    assert expected["events"] == 3000 and expected["user_engagement"] > 0
    assert counts(empty_database) == expected
    assert migrate.migrate(empty_database) == [], "the restored schema is current"
    restored = postgres.connect(empty_database, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30)
    try:
        restored.run("SET ROLE analytics_reader")
        assert restored.run("SELECT count(*) FROM events")[0][0] == 3000
        assert restored.run("SELECT events FROM project_totals")[0][0] == 3000, "the rollups came back with the rows they count"
    finally:
        restored.close()
