"""Apply the numbered SQL files of sql/ in order, each once, each in its own transaction.

    python -m engine.migrate            # against ANALYTICS_DATABASE_URL (make migrate)

Then it counts the events stored before the rollups existed (sql/009_rollups.sql) into them,
in chunks, printing its progress, while ingest and the drain may keep running.

Safe when two runners start at once: they serialize on an advisory lock, and the second
finds nothing left to do. Applied files are append-only: a changed checksum is an error.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from engine import aggregates, config, db
from engine import constants as c
from engine.errors import EngineError
from engine.logs import configure, get_logger

log = get_logger("engine.migrate")
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


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
    conn.run("SELECT pg_advisory_lock(:key)", key=c.LOCK_MIGRATE)
    try:
        conn.run(_BOOKKEEPING)
        applied = {v: s for v, s in conn.run("SELECT version, checksum FROM schema_migrations")}
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
                with db.transaction(conn):
                    conn.run(migration.sql)
                    conn.run(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (:v, :n, :s)",
                        v=migration.version,
                        n=migration.name,
                        s=migration.checksum,
                    )
            except db.DatabaseError as exc:
                raise MigrationError(f"migration {migration.version:03d}_{migration.name} failed: {db.server_message(exc)}") from exc
            log.info("migration applied", extra={"version": migration.version, "migration": migration.name})
            done.append(migration.version)
        return done
    finally:
        conn.run("SELECT pg_advisory_unlock(:key)", key=c.LOCK_MIGRATE)


def migrate(database_url: str, sql_dir: Path = SQL_DIR) -> list[int]:
    migrations = discover(sql_dir)
    conn = db.connect(database_url, application_name="analytics-migrate", statement_timeout_ms=3_600_000, io_timeout_seconds=30)
    try:
        return apply_pending(conn, migrations)
    finally:
        conn.close()


def main() -> int:
    configure()
    try:
        settings = config.get_settings().require("database_url")
        applied = migrate(settings.database_url)
    except (EngineError, db.InterfaceError) as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    print(f"migrate: {len(applied)} migration(s) applied" + (f": {applied}" if applied else "; the schema is current"))
    conn = db.connect(settings.database_url, application_name="analytics-migrate", statement_timeout_ms=3_600_000, io_timeout_seconds=30)
    try:
        result = aggregates.run_backfill(conn, say=lambda line: print(line, flush=True))
    finally:
        conn.close()
    if result["chunks"]:
        print(f"migrate: backfill counted {result['counted']:,} stored events into the rollups")
    return 0


if __name__ == "__main__":
    sys.exit(main())
