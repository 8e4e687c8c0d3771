"""GET /export/events: authenticate -> read the range and filters -> stream the pages -> close.

The answer is a generator: each page (engine.db.exports) is read when the client has taken
the one before, on a connection of this export's own, closed when the answer ends or the
client leaves. The first page is read before the status is sent, so a database that cannot
answer is a 503 in the JSON error shape; a failure later can only cut the stream short, which
the client sees as a transfer that never ended (no final chunk).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import time

import flask

from engine import keyring
from engine.config import Settings
from engine.core import auth, exportfmt
from engine.core.query import parse_query
from engine.db import exports, postgres
from engine.logs import get_logger

log = get_logger("engine.export")


def connect(settings: Settings):
    """A connection for one export (never a thread's shared one: the answer outlives the handler)."""
    return postgres.connect(
        settings.database_read_url or settings.database_url,
        application_name="analytics-export",
        statement_timeout_ms=settings.pg_statement_timeout_ms,
        io_timeout_seconds=settings.io_timeout_seconds,
    )


def get_export(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id = auth.project_for_read_key(settings.read_key, request.headers, keyring.lookup_for(settings))
    query = parse_query(request.args.items(multi=True), dt.datetime.now(dt.UTC))
    fmt = exportfmt.export_format(request.args.get("format"), request.headers.get("Accept"))
    started = time.perf_counter()
    conn = connect(settings)
    try:
        stream = exports.pages(conn, project_id, query, fmt)
        first = next(stream)
    except BaseException:
        conn.close()
        raise

    def finish() -> None:
        """Close the connection once: at the end of the body, or when the server closes an answer never iterated."""
        if not closed:
            closed.append(True)
            with contextlib.suppress(Exception):
                conn.close()

    closed: list[bool] = []

    def body():
        rows, sent, complete = 0, 0, False
        try:
            if fmt == exportfmt.CSV:
                yield exportfmt.csv_header()
            for page in itertools.chain([first], stream):
                rows, sent = rows + page.rows, sent + len(page.data)
                if page.data:
                    yield page.data
            complete = True
        finally:
            finish()
            log.info(
                "export answered" if complete else "export cut short",
                extra={
                    "request_id": rid,
                    "project_id": project_id,
                    "format": fmt,
                    "rows": rows,
                    "bytes": sent,
                    "seconds": round(time.perf_counter() - started, 3),
                },
            )

    name = exportfmt.attachment_name(fmt, query.start.isoformat(), query.end.isoformat())
    headers = {"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{name}"', "X-Accel-Buffering": "no"}
    response = flask.Response(body(), status=200, content_type=exportfmt.CONTENT_TYPES[fmt], headers=headers)
    response.call_on_close(finish)
    return response
