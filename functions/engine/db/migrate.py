"""Apply the numbered SQL files of sql/ in order, each once, each in its own transaction.

Safe when two runners start at once: they serialize on an advisory lock, and the second
finds nothing left to do. Applied files are append-only: a changed checksum is an error.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from engine.core import constants as c
from engine.core.errors import EngineError
from engine.db import postgres
from engine.db.queries import run

log = logging.getLogger("engine.migrate")
SQL_DIR = Path(__file__).resolve().parents[3] / "sql"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class MigrationError(EngineError):
    """A migration file is malformed, changed after it was applied, or failed."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """The migrations in sql_dir, by version; refuses stray or duplicate numbers."""
    found: dict[int, Migration] = {}
    for path in sorted(sql_dir.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version, match.group(2), path.read_text())
    return [found[v] for v in sorted(found)]


def apply_pending(conn, migrations: list[Migration]) -> list[int]:
    """Apply what is not applied yet; returns the versions applied now."""
    run(conn, "advisory_lock", key=c.LOCK_MIGRATE)
    try:
        run(conn, "create_schema_migrations")
        applied = {v: s for v, s in run(conn, "applied_migrations")}
        done = []
        for migration in migrations:
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:03d}_{migration.name} changed after it was applied; "
                        "migrations are append-only: add a new file instead"
                    )
                continue
            try:
                with postgres.transaction(conn):
                    conn.run(migration.sql)
                    run(conn, "record_migration", version=migration.version, name=migration.name, checksum=migration.checksum)
            except postgres.DatabaseError as exc:
                raise MigrationError(f"migration {migration.version:03d}_{migration.name} failed: {postgres.server_message(exc)}") from exc
            log.info("migration applied", extra={"version": migration.version, "migration": migration.name})
            done.append(migration.version)
        return done
    finally:
        run(conn, "advisory_unlock", key=c.LOCK_MIGRATE)


def migrate(database_url: str, sql_dir: Path = SQL_DIR) -> list[int]:
    migrations = discover(sql_dir)
    conn = postgres.connect(database_url, application_name="analytics-migrate", statement_timeout_ms=3_600_000, io_timeout_seconds=30)
    try:
        return apply_pending(conn, migrations)
    finally:
        conn.close()
