"""The analytics routes' answers (pure): JSON bodies from the db wing's rows, and each as CSV tables.

CSV: a header row then one row per point, row, step or cohort (stdlib csv: values holding commas,
quotes or line breaks are quoted, quotes doubled), UTF-8, null as an empty field. These files are
made to be opened in a spreadsheet, and their text cells (element names, user ids, property values)
come from whoever holds a write key, which a web page publishes: a text cell that a spreadsheet would
run as a formula (it starts with =, +, -, @, a tab or a carriage return) gets a leading apostrophe,
which spreadsheets show as text (OWASP's advice on CSV injection). Numbers are written as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

from engine.core.buckets import label


def mean(total, count) -> float:
    """Mean duration rounded to 2 decimals; 0 when no event carried one (as GET /metrics)."""
    return round(float(total) / int(count), 2) if count else 0.0


def range_block(start: dt.datetime, end: dt.datetime, tz: zoneinfo.ZoneInfo) -> dict:
    return {"from": label(start, tz), "to": label(end, tz), "tz": tz.key}


def timeseries(starts, counts: dict, people: dict, tz) -> list[dict]:
    """counts: bucket number (1-based) -> (events, durations, duration sum); people: bucket number -> people."""
    points = []
    for i, start in enumerate(starts, 1):
        events, durations, total = counts.get(i, (0, 0, 0))
        points.append(
            {"t": label(start, tz), "events": int(events), "users": int(people.get(i, 0)), "avg_duration": mean(total, durations)}
        )
    return points


def breakdown(rows) -> list[dict]:
    """rows: (value, events, people, durations, duration sum), already ranked."""
    return [
        {"value": value, "events": int(events), "users": int(users), "avg_duration": mean(total, durations)}
        for value, events, users, durations, total in rows
    ]


def sessions(row) -> dict:
    """row: (sessions, median length, mean length, one-event sessions, events)."""
    count, median, mean_length, bounces, events = row
    count = int(count or 0)
    return {
        "sessions": count,
        "median_seconds": round(float(median), 2) if count else 0.0,
        "mean_seconds": round(float(mean_length), 2) if count else 0.0,
        "bounce_rate": round(int(bounces) / count, 4) if count else 0.0,
        "events_per_session": round(int(events) / count, 2) if count else 0.0,
    }


def retention(starts, cells: dict, periods: int, tz) -> list[dict]:
    """cells: (cohort bucket number, offset k) -> people; one cohort per bucket of the range."""
    return [
        {"start": label(start, tz), "size": int(cells.get((i, 0), 0)), "active": [int(cells.get((i, k), 0)) for k in range(periods + 1)]}
        for i, start in enumerate(starts, 1)
    ]


def uniques(starts, people: dict, tz) -> list[dict]:
    return [{"t": label(start, tz), "people": int(people.get(i, 0))} for i, start in enumerate(starts, 1)]


# --- CSV ---


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render_csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue().encode("utf-8")


def table(rows: list[dict], columns: list[str]) -> tuple[list[str], list[list]]:
    return columns, [[row[col] for col in columns] for row in rows]


def csv_tables(route: str, body: dict) -> tuple[list[str], list[list]]:
    """The CSV form of a route's JSON body: its list of rows with one column per key."""
    if route == "timeseries":
        return table(body["points"], ["t", "events", "users", "avg_duration"])
    if route == "breakdown":
        return table(body["rows"], ["value", "events", "users", "avg_duration"])
    if route == "sessions":
        return table([body], ["sessions", "median_seconds", "mean_seconds", "bounce_rate", "events_per_session"])
    if route == "funnel":
        return table(body["steps"], ["step", "people", "conversion_from_first", "conversion_from_previous", "median_seconds_from_previous"])
    if route == "retention":
        width = max((len(c["active"]) for c in body["cohorts"]), default=0)
        header = ["start", "size", *[f"active_{k}" for k in range(width)]]
        return header, [[c["start"], c["size"], *c["active"]] for c in body["cohorts"]]
    rows = [[name, point["t"], point["people"]] for name in ("daily", "weekly", "monthly") for point in body[name]]
    return ["granularity", "t", "people"], rows
