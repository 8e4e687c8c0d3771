"""Grafana's side of a panel query, in Python: the dashboards and provisioning files, and the
expansion of variables and macros exactly as Grafana does it before the SQL reaches PostgreSQL.

Transcribed from grafana/grafana: pkg/tsdb/grafana-postgresql-datasource/macros.go (the macro
engine: the regex, the argument split, the pre-5.3 $__timeGroup rule, each macro's text) and
sqleng's Interpolate ($__interval_ms, $__interval, $__unixEpochFrom(), $__unixEpochTo()), with
the plugin SDK's gtime interval parsing and formatting and Go's %v for floats. Template
variables ($project, ${project}) are replaced first, as Grafana's frontend does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = GRAFANA / "provisioning" / "datasources"

MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")
VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_INTERVAL = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")


class MacroError(ValueError):
    """What Grafana answers "interpolation failed" for."""


def load_dashboards() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict) -> list[dict]:
    """Every panel, rows' nested panels included."""
    found = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def provisioned_datasources() -> list[dict]:
    sources = []
    for path in sorted(DATASOURCES.glob("*.yaml")):
        sources.extend(yaml.safe_load(path.read_text())["datasources"])
    return sources


def parse_interval(text: str) -> dt.timedelta:
    """gtime.ParseInterval for the units a dashboard uses (1m, 30s, 2h, 1d, 1w, 100ms)."""
    match = _INTERVAL.match(text.strip().strip("'"))
    if not match:
        raise MacroError(f"error parsing interval {text}")
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def format_interval(interval: dt.timedelta) -> str:
    """gtime.FormatInterval: the largest whole unit (what $__interval becomes)."""
    ms = round(interval.total_seconds() * 1000)
    for unit, size in (("y", 365 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if ms >= size:
            return f"{ms // size}{unit}"
    return "1ms"


def go_float(value: float) -> str:
    """Go's fmt %v of a float64 (strconv 'g', shortest digits): exponent form below 1e-4 and from 1e6 up."""
    if value == 0:
        return "0"
    digits = Decimal(repr(value)).normalize()
    sign, mantissa, exponent = digits.as_tuple()
    text = "".join(map(str, mantissa))
    point = len(text) + exponent  # where the decimal point falls in the digit string
    exp = point - 1
    minus = "-" if sign else ""
    if exp < -4 or exp >= 6:  # strconv 'g' with the shortest precision uses 6 here
        head = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{head}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{minus}{text}{'0' * (point - len(text))}"
    return f"{minus}{text[:point]}.{text[point:]}"


def rfc3339nano(moment: dt.datetime) -> str:
    """Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, "Z" for UTC."""
    moment = moment.astimezone(dt.UTC)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def replace_variables(sql: str, variables: dict[str, str]) -> str:
    """The frontend's template substitution: known variables only, the rest left for the backend."""

    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return variables[name] if name in variables else match.group(0)

    return VARIABLE.sub(one, sql)


def _macro(name: str, args: list[str], start: dt.datetime, end: dt.datetime) -> str:
    if name in ("__time", "__timeEpoch", "__timeFilter", "__unixEpochFilter") and not args[0]:
        raise MacroError(f"missing time column argument for macro {name}")
    if name == "__time":
        return f'{args[0]} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {args[0]}) as "time"'
    if name == "__timeFilter":
        return f"{args[0]} BETWEEN '{rfc3339nano(start)}' AND '{rfc3339nano(end)}'"
    if name == "__timeFrom":
        return f"'{rfc3339nano(start)}'"
    if name == "__timeTo":
        return f"'{rfc3339nano(end)}'"
    if name in ("__timeGroup", "__timeGroupAlias"):
        if len(args) < 2:
            raise MacroError(f"macro {name} needs time column and interval and optional fill value")
        seconds = go_float(parse_interval(args[1]).total_seconds())
        group = f"floor(extract(epoch from {args[0]})/{seconds})*{seconds}"
        return group + (' AS "time"' if name == "__timeGroupAlias" else "")
    if name == "__unixEpochFilter":
        return f"{args[0]} >= {math.floor(start.timestamp())} AND {args[0]} <= {math.floor(end.timestamp())}"
    raise MacroError(f"unknown macro {name!r}")


def expand_macros(sql: str, start: dt.datetime, end: dt.datetime) -> str:
    """The PostgreSQL macro engine's Interpolate."""

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name == "__timeGroup":
            # Pre-5.3 compatibility: "$__timeGroup(...)," is read as $__timeGroupAlias.
            at = sql.find(match.group(0)) + len(match.group(0))
            if at < len(sql) and sql[at] == ",":
                name = "__timeGroupAlias"
        args = [arg.strip(" ") for arg in match.group(2).split(",")]
        return _macro(name, args, start, end)

    return MACRO.sub(one, sql)


def expand(sql: str, start: dt.datetime, end: dt.datetime, interval: dt.timedelta, variables: dict[str, str] | None = None) -> str:
    """A panel's rawSql as PostgreSQL receives it, for this time range and $__interval."""
    ms = round(interval.total_seconds() * 1000)
    scoped = {"__interval": format_interval(interval), "__interval_ms": str(ms), **(variables or {})}
    sql = replace_variables(sql, scoped)
    sql = sql.replace("$__interval_ms", str(ms)).replace("$__interval", format_interval(interval))
    sql = sql.replace("$__unixEpochFrom()", str(math.floor(start.timestamp()))).replace(
        "$__unixEpochTo()", str(math.floor(end.timestamp()))
    )
    return expand_macros(sql, start, end)


def panel_range(panel: dict, end: dt.datetime, dashboard_range: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    """The time range a panel queries: its own relative time ("timeFrom": "5m") or the dashboard's."""
    span = parse_interval(panel["timeFrom"]) if panel.get("timeFrom") else dashboard_range
    return end - span, end
