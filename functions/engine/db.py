"""The PostgreSQL layer: connections (with timeouts and TCP_NODELAY) and transactions.

pg8000 has no timeouts by default and leaves Nagle's algorithm on, which stalls COPY and
multi-row inserts on TCP; every connection here is made through `connect`, which fixes both.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import weakref
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
import pg8000.native
from pg8000.exceptions import DatabaseError, InterfaceError

from engine.constants import LOCK_ROLLUP_BACKFILL
from engine.errors import ConfigError
from engine.partitions import day_of

__all__ = ["DatabaseError", "InterfaceError", "connect", "transaction", "parse_database_url", "sqlstate"]


SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class Target:
    """Where and as whom to connect, parsed from ANALYTICS_DATABASE_URL."""

    user: str
    password: str | None
    database: str
    host: str | None
    port: int
    unix_sock: str | None
    sslmode: str = "prefer"

    def with_database(self, database: str) -> Target:
        return Target(self.user, self.password, database, self.host, self.port, self.unix_sock, self.sslmode)

    def ssl_context(self):
        """pg8000's ssl_context for libpq's sslmode: False, None (try), True (unverified), or verifying."""
        if self.unix_sock or self.sslmode == "disable":
            return False
        if self.sslmode == "require":
            return True
        if self.sslmode in ("verify-ca", "verify-full"):
            return ssl.create_default_context()
        return None


def parse_database_url(url: str) -> Target:
    """postgresql://user:pass@host:port/db, or postgresql://user@/db?host=/socket/dir."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"database URL must start with postgresql://, got {parts.scheme!r}")
    query = parse_qs(parts.query)
    port = parts.port or int(query.get("port", ["5432"])[0])
    socket_dir = query.get("host", [None])[0]
    host = parts.hostname
    unix_sock = None
    if socket_dir and socket_dir.startswith("/"):
        unix_sock = f"{socket_dir}/.s.PGSQL.{port}"
        host = None
    elif socket_dir:
        host = socket_dir
    if host is None and unix_sock is None:
        host = "127.0.0.1"
    sslmode = query.get("sslmode", ["prefer"])[0]
    if sslmode not in SSLMODES:
        raise ConfigError(f"database URL sslmode must be one of {', '.join(SSLMODES)}, got {sslmode!r}")
    return Target(
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        database=unquote(parts.path.lstrip("/")) or "postgres",
        host=host,
        port=port,
        unix_sock=unix_sock,
        sslmode=sslmode,
    )


def format_database_url(target: Target) -> str:
    auth = target.user + (f":{target.password}" if target.password else "")
    if target.unix_sock:
        socket_dir = target.unix_sock.rsplit("/", 1)[0]
        return f"postgresql://{auth}@/{target.database}?host={socket_dir}&port={target.port}"
    ssl_part = "" if target.sslmode == "prefer" else f"?sslmode={target.sslmode}"
    return f"postgresql://{auth}@{target.host}:{target.port}/{target.database}{ssl_part}"


def connect(
    url_or_target: str | Target,
    *,
    application_name: str,
    statement_timeout_ms: int,
    io_timeout_seconds: float,
) -> pg8000.native.Connection:
    """A new connection in UTC with a statement timeout, a socket timeout and JIT off."""
    target = parse_database_url(url_or_target) if isinstance(url_or_target, str) else url_or_target
    # The socket timeout must outlast the statement timeout, or a slow but legal statement
    # would look like a dead server.
    io_timeout = max(io_timeout_seconds, statement_timeout_ms / 1000 + 5)
    sock = None
    if target.unix_sock is None:
        try:
            sock = socket.create_connection((target.host, target.port), timeout=io_timeout_seconds)
        except OSError as exc:
            raise InterfaceError(f"cannot reach PostgreSQL at {target.host}:{target.port}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.settimeout(io_timeout)
    try:
        return pg8000.native.Connection(
            target.user,
            password=target.password,
            database=target.database,
            unix_sock=target.unix_sock,
            sock=sock,
            timeout=io_timeout,
            application_name=application_name,
            ssl_context=target.ssl_context(),
            # JIT compiles for plans estimated as costly: the drain's batches (a table of
            # unknown size) and the views' refresh, where compiling cost more than it saved.
            startup_params={"TimeZone": "UTC", "statement_timeout": str(statement_timeout_ms), "jit": "off"},
        )
    except BaseException:
        if sock is not None:  # handed over, but pg8000 does not close it when startup fails
            sock.close()
        raise


@contextlib.contextmanager
def transaction(conn: pg8000.native.Connection):
    """BEGIN ... COMMIT, rolled back if the block raises."""
    conn.run("BEGIN")
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(Exception):
            conn.run("ROLLBACK")
        raise
    conn.run("COMMIT")


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE code of a server error, or None for anything else."""
    if isinstance(exc, DatabaseError) and exc.args and isinstance(exc.args[0], dict):
        return exc.args[0].get("C")
    return None


def server_message(exc: BaseException) -> str:
    if isinstance(exc, DatabaseError) and exc.args and isinstance(exc.args[0], dict):
        fields = exc.args[0]
        return f"{fields.get('C', '')} {fields.get('M', '')}".strip()
    return str(exc)


# SQLSTATE classes that say "the server or the network failed", not "this data is bad":
# connection (08), resources (53), operator intervention (57), system (58), transaction
# rollback such as deadlocks (40), and statement timeouts (57014 is in 57).
TRANSIENT_CLASSES = ("08", "40", "53", "57", "58", "XX")


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (InterfaceError, OSError)):
        return True
    state = sqlstate(exc)
    return state is None or state[:2] in TRANSIENT_CLASSES


# --- Data functions: each takes its connection; the SQL lives in queries/*.sql. ---

_QUERY_DIR = Path(__file__).with_name("queries")
QUERIES = {path.stem: path.read_text() for path in _QUERY_DIR.glob("*.sql")}


# Statements prepared on each connection, by query name. pg8000's run() rescans the SQL
# text in Python for :name parameters on every call (a third of a millisecond for the
# metrics queries) and has the server parse it again; a prepared statement does both once.
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def run_prepared(conn, name: str, **params) -> list:
    """Run QUERIES[name] as a statement prepared once per connection."""
    statements = _PREPARED.setdefault(conn, {})
    statement = statements.get(name)
    if statement is None:
        statement = statements[name] = conn.prepare(QUERIES[name])
    try:
        return statement.run(**params)
    except DatabaseError:
        # A schema change can invalidate it ("cached plan must not change result type"):
        # prepare afresh next time. The statement itself stays valid until the connection closes.
        statements.pop(name, None)
        raise


def ping(conn) -> None:
    conn.run("SELECT 1")


def ensure_staging(conn) -> None:
    """Create this connection's staging and rollup tables once, outside any transaction.

    Created inside the load's transaction, a rollback would take the tables with it.
    """
    if not getattr(conn, "_has_staging", False):
        for name in ("create_staging", "create_rollup_batch", "create_rollup_fresh"):
            conn.run(QUERIES[name])
        conn._has_staging = True


# In this order in every transaction, each statement's keys sorted: one global lock order.
ROLLUP_STATEMENTS = sorted(name for name in QUERIES if name.startswith("rollup_apply_"))


def apply_rollups(conn, prepared: bool = True) -> None:
    """Add rollup_batch's rows to the rollup tables (inside the caller's transaction).

    prepared=False parses each statement afresh, so that it resolves the table names again
    (a statement prepared earlier on this connection stays bound to the tables it saw then).
    """
    for name in ROLLUP_STATEMENTS:
        if prepared:
            run_prepared(conn, name)
        else:
            conn.run(QUERIES[name])


def add_to_rollups(conn) -> None:
    """Count the rows this transaction inserted (rollup_batch), leaving to a running backfill
    the ones before its counted_from (see sql/009_rollups.sql)."""
    run_prepared(conn, "rollup_lock_shared", key=LOCK_ROLLUP_BACKFILL)
    run_prepared(conn, "rollup_defer")
    apply_rollups(conn)


def load_rows(conn, copy_text: bytes) -> int:
    """COPY entries (copyfmt.copy_line) into staging, move the new ones into events and their
    counts into the rollups; commit; return rows inserted.

    Idempotent per event id (see load_staged.sql), so a replayed batch inserts and counts nothing.
    """
    ensure_staging(conn)
    with transaction(conn):
        conn.run(QUERIES["copy_staging"], stream=[copy_text])
        conn.run(QUERIES["load_staged"])
        inserted = conn.row_count
        if inserted > 0:
            add_to_rollups(conn)
    return max(inserted, 0)


def partition_days(conn) -> set:
    return {day for (name,) in conn.run(QUERIES["event_partitions"]) if (day := day_of(name)) is not None}


def create_partitions(conn, statements: list[str], lock_key: int) -> None:
    """Create partitions in one transaction, serialized so concurrent creators don't collide."""
    if not statements:
        return
    with transaction(conn):
        conn.run("SELECT pg_advisory_xact_lock(:key)", key=lock_key)
        for statement in statements:
            conn.run(statement)


def drop_partitions(conn, statements: list[str], lock_key: int) -> None:
    create_partitions(conn, statements, lock_key)


def insert_dead_letters(conn, letters: list[tuple[str, bytes, str, int]]) -> None:
    """Store (stream_id, payload, error, deliveries) rows; a stream id already there is skipped."""
    if not letters:
        return
    with transaction(conn):
        for stream_id, payload, error, deliveries in letters:
            conn.run(
                QUERIES["insert_dead_letter"],
                stream_id=stream_id,
                payload=payload,
                error=error.replace("\x00", "")[:2000],
                deliveries=deliveries,
            )


def window_aggregates(conn, project_id: int, first, last) -> tuple[int, int, float | None]:
    """(events, distinct people, mean duration) of one project's minutes first through last."""
    rows = run_prepared(conn, "metrics_window", project_id=project_id, first=first, last=last)
    events, users, avg_duration = rows[0]
    return int(events), int(users), None if avg_duration is None else float(avg_duration)


def top_elements(conn, project_id: int, first, last, limit: int) -> list[tuple[str, int]]:
    rows = run_prepared(conn, "metrics_top_elements", project_id=project_id, first=first, last=last, limit=limit)
    return [(element, int(count)) for element, count in rows]


def all_time(conn, project_id: int, limit: int) -> tuple[int, int, list[tuple[str, int]]]:
    """(events, people, top elements) of everything a project ever stored, from the rollups."""
    events, users = run_prepared(conn, "metrics_all_time", project_id=project_id)[0]
    top = run_prepared(conn, "metrics_all_time_elements", project_id=project_id, limit=limit)
    return int(events), int(users), [(element, int(count)) for element, count in top]


def apply_identity(conn, operation: dict) -> None:
    """One identify, group or alias (and the links any message carries), idempotently."""
    project_id = int(operation["project_id"])
    kind = operation.get("kind", "event")
    if kind == "identify":
        traits = orjson.dumps(operation.get("traits") or {}).decode()
        conn.run(QUERIES["upsert_user"], project_id=project_id, user_id=operation["user_id"], traits=traits, at=operation["at"])
    elif kind == "group":
        traits = orjson.dumps(operation.get("traits") or {}).decode()
        conn.run(
            QUERIES["upsert_group"],
            project_id=project_id,
            group_id=operation["group_id"],
            user_id=operation["user_id"],
            traits=traits,
            at=operation["at"],
        )
    for alias, target in operation.get("links") or []:
        conn.run(QUERIES["link_identity"], project_id=project_id, alias=alias, target=target)


def apply_identities(conn, operations: list[dict]) -> None:
    """Apply operations in one transaction (all or none)."""
    with transaction(conn):
        for operation in operations:
            apply_identity(conn, operation)


def active_api_keys(conn) -> list[tuple[bytes, int, str, object]]:
    """(key_hash, project_id, kind, expires_at) of every key that is or will be valid."""
    return [(bytes(h), int(p), k, e) for h, p, k, e in conn.run(QUERIES["active_api_keys"])]


def create_project(conn, name: str) -> int:
    return int(conn.run("INSERT INTO projects (name) VALUES (:name) RETURNING id", name=name)[0][0])


def project_id_named(conn, name: str) -> int | None:
    rows = conn.run("SELECT id FROM projects WHERE name = :name", name=name)
    return int(rows[0][0]) if rows else None


def insert_api_key(conn, project_id: int, kind: str, key_hash: bytes, key_prefix: str) -> None:
    conn.run(QUERIES["insert_api_key"], project_id=project_id, kind=kind, key_hash=key_hash, key_prefix=key_prefix)


def expire_api_keys(conn, project_id: int, kind: str, expires_at) -> int:
    conn.run(QUERIES["expire_api_keys"], project_id=project_id, kind=kind, expires_at=expires_at)
    return max(conn.row_count, 0)


def list_api_keys(conn) -> list[tuple]:
    return conn.run(QUERIES["list_api_keys"])


def try_advisory_lock(conn, key: int) -> bool:
    return bool(conn.run("SELECT pg_try_advisory_lock(:key)", key=key)[0][0])


def advisory_unlock(conn, key: int) -> None:
    conn.run("SELECT pg_advisory_unlock(:key)", key=key)


def record_task_run(conn, task: str, status: str, started_at, finished_at, counts: dict, oldest_age: float | None, details: dict) -> None:
    """One row of task_runs: what a drain or refresh invocation did (Grafana charts these)."""
    conn.run(
        QUERIES["insert_task_run"],
        task=task,
        status=status,
        started_at=started_at,
        finished_at=finished_at,
        seconds=(finished_at - started_at).total_seconds(),
        read=counts.get("read", 0),
        inserted=counts.get("inserted", 0),
        duplicates=counts.get("duplicates", 0),
        dead_lettered=counts.get("dead_lettered", 0),
        reclaimed=counts.get("reclaimed", 0),
        backlog=counts.get("backlog", 0),
        oldest_age=oldest_age,
        details=orjson.dumps(details).decode(),
    )


def delete_old_task_runs(conn, cutoff) -> int:
    conn.run(QUERIES["delete_old_task_runs"], cutoff=cutoff)
    return max(conn.row_count, 0)


def delete_expired(conn, cutoff) -> tuple[int, int]:
    """Forget event ids and default-partition rows older than the retention cutoff."""
    with transaction(conn):
        conn.run(QUERIES["delete_expired_ids"], cutoff=cutoff)
        ids = max(conn.row_count, 0)
        conn.run(QUERIES["delete_expired_default"], cutoff=cutoff)
        rows = max(conn.row_count, 0)
    return ids, rows


# --- The dashboard's series (GET /metrics/...): rows as the queries return them. ---


def per_minute(conn, project_id: int, first, last) -> list[tuple]:
    """(minute, events, people) for every minute from first through last, zeros included."""
    rows = run_prepared(conn, "metrics_per_minute", project_id=project_id, first=first, last=last)
    return [(minute, int(events), int(users)) for minute, events, users in rows]


def recent_elements(conn, project_id: int, first, last, limit: int) -> list[tuple]:
    """(element, events, people, mean duration or None) from minute first through last, most used first."""
    rows = run_prepared(conn, "metrics_recent_elements", project_id=project_id, first=first, last=last, limit=limit)
    return [(element, int(events), int(users), None if avg is None else float(avg)) for element, events, users, avg in rows]


def heatmap(conn, project_id: int, first, last) -> list[tuple[int, int, int]]:
    """(ISO weekday, UTC hour, events) for all 168 cells over the minutes first through last."""
    rows = run_prepared(conn, "metrics_heatmap", project_id=project_id, first=first, last=last)
    return [(int(weekday), int(hour), int(events)) for weekday, hour, events in rows]


def engaged_users(conn, project_id: int, limit: int) -> tuple[list[tuple], int, int]:
    """([(person, events, total duration, first seen, last seen)], all events, all people), from the rollups."""
    rows = run_prepared(conn, "metrics_engaged_users", project_id=project_id, limit=limit)
    users = [(user_id, int(events), float(total), first, last) for user_id, events, total, first, last, _, _ in rows]
    return users, int(rows[0][5]) if rows else 0, int(rows[0][6]) if rows else 0
