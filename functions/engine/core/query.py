"""The analytics routes' common parameters (README, "Analytics routes"), parsed into one frozen Query.

Pure: takes the query string as (name, value) pairs and `now`, raises BadRequest naming the
parameter. The range is [from, to) of whole minutes (both truncated to the minute), so that the
per-minute rollups answer it exactly. Filters: different filters are ANDed; repeated values of
the same filter (action=a&action=b, property.plan=pro&property.plan=team) match any of them,
since one event has one action and ANDing them would always be empty.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable

from engine.core import constants as c
from engine.core.errors import BadRequest

DEFAULT_RANGE = dt.timedelta(days=7)
MAX_POINTS = 1500
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
FORMATS = ("json", "csv")
COMMON = ("from", "to", "tz", "format")
FILTERS = {"action": c.MAX_ACTION_CHARS, "element": c.MAX_ELEMENT_CHARS, "user_id": c.MAX_USER_ID_CHARS}
PROPERTY_PREFIX = "property."
MAX_FILTER_VALUES = 100  # values over all filters of one request
# "+01:00" unencoded in a query string arrives as " 01:00": read it back as the offset it was.
_SPACED_OFFSET = re.compile(r"(T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?) (\d{2}(?::?\d{2})?)$")


@dataclasses.dataclass(frozen=True)
class Filters:
    """Each filter's accepted values (empty: no filter); properties as sorted (key, values) pairs."""

    actions: tuple[str, ...] = ()
    elements: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    properties: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def rollup_ready(self) -> bool:
        """True when the per-minute rollups carry every filter given (none, or only element)."""
        return not (self.actions or self.user_ids or self.properties)

    @property
    def day_ready(self) -> bool:
        """True when the per-hour and per-day rollups answer: no filter, or only action."""
        return not (self.elements or self.user_ids or self.properties)


@dataclasses.dataclass(frozen=True)
class Query:
    """One analytics request's range [start, end) in UTC, its time zone, filters and answer format."""

    start: dt.datetime
    end: dt.datetime
    tz: zoneinfo.ZoneInfo
    filters: Filters
    format: str = "json"
    extra: tuple[tuple[str, str], ...] = ()  # the route's own parameters, by name

    def param(self, name: str, default: str | None = None) -> str | None:
        return dict(self.extra).get(name, default)


def bad(parameter: str, message: str) -> BadRequest:
    return BadRequest(message, {"parameter": parameter})


def parse_time(name: str, value: str, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """ISO 8601 with any offset (Z included); without one, local time in tz; a bare date is its local midnight."""
    text = _SPACED_OFFSET.sub(r"\1+\2", value.strip())
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise bad(name, f"{name} must be an ISO 8601 time such as 2026-11-01T00:00:00-04:00, not {value[:60]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        moment = parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise bad(name, f"{name} must lie between {EARLIEST.date()} and {LATEST.date()}")
    return moment.replace(second=0, microsecond=0)


def parse_tz(value: str | None) -> zoneinfo.ZoneInfo:
    if value is None:
        return zoneinfo.ZoneInfo("UTC")
    try:
        if not value or value.startswith(("/", ".")) or "\x00" in value or len(value) > 64:
            raise ValueError(value)
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise bad("tz", f"tz must be an IANA time zone name such as Europe/Berlin, not {value[:60]!r}") from None


def _filter_value(name: str, value: str, limit: int) -> str:
    if not value or "\x00" in value or len(value) > limit:
        raise bad(name, f"{name} must be 1 to {limit} characters without NUL")
    return value


def parse_filters(pairs: Iterable[tuple[str, str]]) -> Filters:
    """The filter parameters among pairs (others are ignored here)."""
    found: dict[str, list[str]] = {name: [] for name in FILTERS}
    properties: dict[str, list[str]] = {}
    count = 0
    for name, value in pairs:
        if name in FILTERS:
            values = found[name]
            value = _filter_value(name, value, FILTERS[name])
        elif name.startswith(PROPERTY_PREFIX):
            key = name[len(PROPERTY_PREFIX) :]
            if not key or "\x00" in key or len(key) > c.MAX_PROPERTY_KEY_CHARS:
                raise bad(name, f"a property filter is property.<key>=<value> with a key of 1 to {c.MAX_PROPERTY_KEY_CHARS} characters")
            values = properties.setdefault(key, [])
            value = _filter_value(name, value, c.MAX_PROPERTY_KEY_CHARS * 5)
        else:
            continue
        count += 1
        if count > MAX_FILTER_VALUES:
            raise bad(name, f"at most {MAX_FILTER_VALUES} filter values in one request")
        if value not in values:
            values.append(value)
    return Filters(
        actions=tuple(found["action"]),
        elements=tuple(found["element"]),
        user_ids=tuple(found["user_id"]),
        properties=tuple((key, tuple(values)) for key, values in sorted(properties.items())),
    )


def parse_query(pairs: Iterable[tuple[str, str]], now: dt.datetime, route_params: Iterable[str] = ()) -> Query:
    """The common parameters of every analytics route, plus the route's own names (kept raw in extra).

    An unknown parameter, or one of the single-valued ones given twice, is a 400 naming it.
    """
    pairs = list(pairs)
    allowed = set(COMMON) | set(route_params)
    single: dict[str, str] = {}
    for name, value in pairs:
        if name in FILTERS or name.startswith(PROPERTY_PREFIX):
            continue
        if name not in allowed:
            raise bad(name, f"unknown parameter {name[:60]!r}; this route takes {', '.join(sorted(allowed))}, filters and property.<key>")
        if name in single:
            raise bad(name, f"{name} may be given once")
        single[name] = value
    tz = parse_tz(single.get("tz"))
    fmt = single.get("format", "json")
    if fmt not in FORMATS:
        raise bad("format", f"format must be one of {', '.join(FORMATS)}")
    end = parse_time("to", single["to"], tz) if "to" in single else now.astimezone(dt.UTC).replace(second=0, microsecond=0)
    start = parse_time("from", single["from"], tz) if "from" in single else end - DEFAULT_RANGE
    if start > end:
        raise bad("from", "from is after to")
    extra = tuple((name, value) for name, value in single.items() if name not in COMMON)
    return Query(start=start, end=end, tz=tz, filters=parse_filters(pairs), format=fmt, extra=extra)


def int_param(query: Query, name: str, default: int, low: int, high: int) -> int:
    """A route's integer parameter within [low, high], or a 400 naming it."""
    raw = query.param(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise bad(name, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def choice_param(query: Query, name: str, default: str, choices: Iterable[str]) -> str:
    """A route's parameter that takes one of a few words, or a 400 naming it."""
    choices = tuple(choices)
    value = query.param(name, default)
    if value not in choices:
        raise bad(name, f"{name} must be one of {', '.join(choices)}")
    return value
