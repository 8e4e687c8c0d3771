"""The table a person reads and the JSON a script reads, from the same figures."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

from local.bench.figures import Figure, format_met, format_ratio, format_value

HEADER = ("figure", "value", "floor, same run", "ratio", "goal", "met")


def table_rows(figures: list[Figure]) -> list[tuple[str, ...]]:
    rows = []
    for figure in figures:
        floor = "—" if figure.floor is None else f"{format_value(figure.floor, figure.unit)} ({figure.floor_name})"
        if figure.floor is None and figure.floor_name != "—":
            floor = figure.floor_name
        name = f"{figure.name} ({figure.note})" if figure.note else figure.name
        rows.append(
            (
                name,
                format_value(figure.value, figure.unit),
                floor,
                format_ratio(figure.ratio),
                figure.goal.describe(figure.unit),
                format_met(figure.met),
            )
        )
    return rows


def render_table(figures: list[Figure]) -> str:
    """A Markdown table, one line per figure, ready for the README."""
    rows = [HEADER, *table_rows(figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]

    def line(row):
        return "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |"

    separator = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(rows[0]), separator, *(line(r) for r in rows[1:])])


def summary_line(figures: list[Figure]) -> str:
    checked = [f for f in figures if f.met is not None]
    missed = [f.name for f in checked if not f.met]
    head = f"{len(checked) - len(missed)} of {len(checked)} goals met"
    return head + (f"; missed: {', '.join(missed)}" if missed else "")


def document(figures: list[Figure], run: dict) -> dict:
    """The JSON written under .local/bench/: the run's facts and every figure with its raw numbers."""
    return {**run, "figures": [f.as_dict() for f in figures], "summary": summary_line(figures)}


def finite(value):
    """value with every infinite or NaN number replaced by None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def write_json(doc: dict, directory: Path, now: dt.datetime) -> Path:
    """Write bench-<UTC time>.json and latest.json in directory; returns the timestamped path."""
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(finite(doc), indent=2, default=str, allow_nan=False) + "\n"
    path = directory / f"bench-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    return path
