"""PostgreSQL connections (with timeouts and TCP_NODELAY), transactions and error classes.

pg8000 has no timeouts by default and leaves Nagle's algorithm on, which stalls COPY and
multi-row inserts on TCP; every connection here is made through `connect`, which fixes both.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import weakref
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import pg8000.native
from pg8000.exceptions import DatabaseError, InterfaceError

from engine.core import constants as c
from engine.core.errors import ConfigError, ServiceUnavailable

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


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """A PostgreSQL failure as a 503 the client may retry, or None if it is not one."""
    if isinstance(exc, (InterfaceError, OSError)) or (isinstance(exc, DatabaseError) and is_transient(exc)):
        return ServiceUnavailable(
            "the database (PostgreSQL) is unavailable; retry later", headers={"Retry-After": str(c.RETRY_AFTER_SECONDS)}
        )
    return None


# What this process remembers about each connection (its staging table, the partitions it
# has seen, its prepared statements), in one place: forgotten with the connection.
_STATE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def conn_state(conn) -> dict:
    """The per-connection state map of this connection."""
    return _STATE.setdefault(conn, {})


def ping(conn) -> None:
    conn.run("SELECT 1")
