"""The migration runner on a scratch database of its own."""

import secrets
import threading
from pathlib import Path

import pytest

from engine.db import migrate, postgres

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_url(services):
    """An empty database for one test, dropped afterwards."""
    target = postgres.parse_database_url(services.admin_url)
    name = f"analytics_test_scratch_{secrets.token_hex(4)}"
    admin = postgres.connect(target, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30)
    admin.run(f'CREATE DATABASE "{name}"')
    yield postgres.format_database_url(target.with_database(name))
    admin.run(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def tables(url):
    conn = postgres.connect(url, application_name="t", statement_timeout_ms=10_000, io_timeout_seconds=10)
    try:
        return {
            r[0]
            for r in conn.run("SELECT relname FROM pg_class WHERE relkind IN ('r','p','m','v') AND relnamespace = 'public'::regnamespace")
        }
    finally:
        conn.close()


def test_applies_each_once_in_order(scratch_url):
    versions = [m.version for m in migrate.discover()]
    assert versions == sorted(versions) and versions[0] == 1
    assert migrate.migrate(scratch_url) == versions
    assert migrate.migrate(scratch_url) == []
    assert {"events", "events_default", "event_ids", "dead_letters", "projects", "schema_migrations", "user_engagement"} <= tables(
        scratch_url
    )


def test_two_runners_at_once_apply_everything_once(scratch_url):
    results, errors = [], []

    def runner():
        try:
            results.append(migrate.migrate(scratch_url))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, 0, len(migrate.discover())]


def test_changed_applied_migration_is_refused(scratch_url, tmp_path: Path):
    for m in migrate.discover():
        (tmp_path / f"{m.version:03d}_{m.name}.sql").write_text(m.sql)
    migrate.migrate(scratch_url, tmp_path)
    first = sorted(tmp_path.glob("001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(migrate.MigrationError, match="changed after it was applied"):
        migrate.migrate(scratch_url, tmp_path)


def test_failed_migration_rolls_back_whole(scratch_url, tmp_path: Path):
    (tmp_path / "001_ok.sql").write_text("CREATE TABLE a (x int);")
    (tmp_path / "002_bad.sql").write_text("CREATE TABLE b (x int); SELECT no_such_function();")
    with pytest.raises(migrate.MigrationError, match="002_bad failed"):
        migrate.migrate(scratch_url, tmp_path)
    assert {"a", "schema_migrations"} == tables(scratch_url)


@pytest.mark.parametrize("name", ["1_short.sql", "001-dash.sql", "001_Upper.sql"])
def test_badly_named_files_are_refused(tmp_path: Path, name):
    (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(migrate.MigrationError, match="named NNN_name.sql"):
        migrate.discover(tmp_path)


def test_the_week_presence_is_filled_from_the_day_presence_already_counted(scratch_url):
    conn = postgres.connect(scratch_url, application_name="t", statement_timeout_ms=10_000, io_timeout_seconds=10)
    try:
        migrate.apply_pending(conn, [m for m in migrate.discover() if m.version < 12])
        days = [(1, "2026-11-01", "a"), (1, "2026-11-02", "a"), (1, "2026-11-03", "a"), (1, "2026-11-08", "b"), (2, "2026-11-09", "a")]
        for project, day, user in days:  # Sunday 1, Monday 2 ... Sunday 8, Monday 9
            conn.run("INSERT INTO rollup_day_users VALUES (:p, CAST(:d AS date), :u, 1)", p=project, d=day, u=user)
        migrate.apply_pending(conn, migrate.discover())
        weeks = conn.run("SELECT project_id, CAST(week AS text), user_id FROM rollup_week_users ORDER BY 1, 2, 3")
        assert weeks == [[1, "2026-10-26", "a"], [1, "2026-11-02", "a"], [1, "2026-11-02", "b"], [2, "2026-11-09", "a"]]
    finally:
        conn.close()
