"""GET /export/events, its pure part: the columns, the format a request asks for, the page size.

The rows themselves are rendered by PostgreSQL (COPY, engine.db.exports): Python never holds
more than one page of them, and never quotes a value itself.
"""

from __future__ import annotations

import csv
import io

# Every stored field of an event (sql/001_events.sql, 005, 007), in this order in both formats.
COLUMNS = (
    "event_id",
    "project_id",
    "user_id",
    "anonymous_id",
    "action",
    "element",
    "duration",
    "timestamp",
    "client_timestamp",
    "sent_at",
    "received_at",
    "session_id",
    "request_id",
    "properties",
    "context",
    "envelope",
)
CSV = "csv"
NDJSON = "ndjson"
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8", NDJSON: "application/x-ndjson; charset=utf-8"}
# Rows of the first page, then as many as make about PAGE_TARGET_BYTES at the size seen so far:
# an event holds up to 32 KB (MAX_EVENT_BYTES), so a page is sized by bytes, not by a row count.
FIRST_PAGE_ROWS = 1000
MIN_PAGE_ROWS = 100
MAX_PAGE_ROWS = 20_000
PAGE_TARGET_BYTES = 4 * 1024 * 1024


def export_format(format_param: str | None, accept: str | None) -> str:
    """?format=csv (or Accept: text/csv without ?format) is CSV; anything else NDJSON.

    format_param is the parsed ?format (engine.core.query: "json" or "csv", None when absent);
    ?format=json asks for JSON, which an export gives as one JSON object a line.
    """
    if format_param is not None:
        return CSV if format_param == CSV else NDJSON
    wanted = [part.split(";")[0].strip().lower() for part in (accept or "").split(",")]
    return CSV if "text/csv" in wanted and "application/x-ndjson" not in wanted else NDJSON


def csv_header() -> bytes:
    """The CSV header row, quoted as the rows are (RFC 4180, CRLF-free: PostgreSQL ends rows with LF)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(COLUMNS)
    return out.getvalue().encode()


def next_page_rows(rows: int, page_bytes: int) -> int:
    """How many rows the next page should read, from what the last one read and weighed."""
    if rows <= 0 or page_bytes <= 0:
        return FIRST_PAGE_ROWS
    return max(MIN_PAGE_ROWS, min(MAX_PAGE_ROWS, rows * PAGE_TARGET_BYTES // page_bytes))


def attachment_name(fmt: str, start_iso: str, end_iso: str) -> str:
    """The download's file name: events_<from>_<to>.csv or .ndjson (colons are not allowed in names)."""
    return f"events_{start_iso}_{end_iso}.{fmt}".replace(":", "")
