"""The named queries: every statement the engine runs lives in sql/NAME.sql, loaded once.

Statements run often are prepared once per connection: pg8000's run() rescans the SQL text
in Python for :name parameters on every call (a third of a millisecond for the metrics
queries) and has the server parse it again; a prepared statement does both once.
"""

from __future__ import annotations

from pathlib import Path

from engine.db.analytics_filters import MARKERS, with_filters
from engine.db.postgres import DatabaseError, conn_state

_QUERY_DIR = Path(__file__).with_name("sql")


def _load(path: Path) -> str:
    """A query's text, with the analytics fragments (engine.db.analytics_filters) where it names them."""
    text = path.read_text()
    return with_filters(text) if any(marker in text for marker in MARKERS) else text


QUERIES = {path.stem: _load(path) for path in _QUERY_DIR.glob("*.sql")}


def prepared(conn) -> dict:
    """This connection's prepared statements, by query name."""
    return conn_state(conn).setdefault("prepared", {})


def run_prepared(conn, name: str, /, **params) -> list:
    """Run QUERIES[name] as a statement prepared once per connection."""
    statements = prepared(conn)
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


def run(conn, name: str, /, **params) -> list:
    """Run QUERIES[name] once (statements run rarely are not worth preparing)."""
    return conn.run(QUERIES[name], **params)
