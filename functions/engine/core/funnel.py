"""Funnels and sessions from individual sequences (pure): the README's definitions, over rows the db wing reads.

Funnel: a person reaches step k when, after an event matching step 1, events matching steps
2..k follow in that order, each strictly later than the one before, all within `within` seconds
of the step-1 event. Each of a person's step-1 events is tried; the person counts at the deepest
step any of them reaches (ties: the earliest start), and the gaps between steps come from that
attempt. For a given start, taking the earliest match of each next step reaches deepest.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import statistics
from collections.abc import Iterable

from engine.core import constants as c
from engine.core.query import Query, bad

MIN_STEPS, MAX_STEPS = 2, 20
_STEP = re.compile(r"^[^:\x00]+(:[^\x00]+)?$")
MICROSECONDS = 1_000_000  # per second: the unit of the times funnel() reads


def parse_steps(query: Query) -> tuple[tuple[str, str | None], ...]:
    """steps=A,B,C: each `action` or `action:element`, 2 to 20 of them, else a 400 naming steps."""
    raw = query.param("steps")
    if raw is None:
        raise bad("steps", f"steps is required: {MIN_STEPS} to {MAX_STEPS} comma-separated action or action:element")
    parts = raw.split(",")
    if not MIN_STEPS <= len(parts) <= MAX_STEPS:
        raise bad("steps", f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {len(parts)}")
    steps = []
    for part in parts:
        action, _, element = part.partition(":")
        if not _STEP.match(part) or len(action) > c.MAX_ACTION_CHARS or len(element) > c.MAX_ELEMENT_CHARS:
            raise bad("steps", f"each step is action or action:element; {part[:60]!r} is not")
        steps.append((action, element or None))
    return tuple(steps)


def step_name(step: tuple[str, str | None]) -> str:
    return step[0] if step[1] is None else f"{step[0]}:{step[1]}"


def _matches(step: tuple[str, str | None], action: str, element: str | None) -> bool:
    """Whether an event of `action` on `element` matches a step (`action`, or `action:element`)."""
    return step[0] == action and (step[1] is None or step[1] == element)


def step_times(events: Iterable[tuple[int, str, str | None]], steps) -> list[list[int]]:
    """A person's events (time, action, element) as best_attempt reads them: per step, the
    ascending times of the events matching it."""
    times: list[list[int]] = [[] for _ in steps]
    for t, action, element in sorted(events, key=lambda event: event[0]):
        for k, step in enumerate(steps):
            if _matches(step, action, element):
                times[k].append(t)
    return times


@dataclasses.dataclass(frozen=True)
class Packed:
    """A person's step times in one list: step k's are values[lo:hi] less offset, ascending
    (spans[k] = (lo, hi, offset)); steps that are alike may share a span. The db wing reads a
    person's times this way without copying each step's out (engine.db.analytics_reads)."""

    values: list[int]
    spans: list[tuple[int, int, int]]

    @classmethod
    def of(cls, times: list[list[int]]) -> Packed:
        """The per-step lists of step_times, one after the other."""
        values: list[int] = []
        spans = []
        for step in times:
            spans.append((len(values), len(values) + len(step), 0))
            values += step
        return cls(values, spans)

    @classmethod
    def of_numbers(cls, numbers, kinds: int, place: list[int], base: int) -> Packed:
        """From numbers i * base + time (i the kind of step, 1..kinds; 0 <= time < base) in any
        order: one sort orders them by kind, then time, so each kind's times are one span, read
        in place with its offset i * base; place[k] is step k's kind (0-based)."""
        values = sorted(numbers)
        spans, cut = [], 0
        for i in range(1, kinds + 1):
            end = bisect.bisect_left(values, (i + 1) * base, cut)
            spans.append((cut, end, i * base))
            cut = end
        return cls(values, [spans[k] for k in place])


def best_attempt(times: list[list[int]] | Packed, within: int) -> list[int]:
    """The times of the steps the person's deepest attempt reached (empty: never step 1).

    times: per step, the ascending times of the person's events matching it (step_times), or
    the same as Packed (any unit, `within` in the same). From each step-1 event in time order,
    each next step takes the earliest matching event strictly later than the one before
    (bisect), until one is later than start + within."""
    person = times if isinstance(times, Packed) else Packed.of(times)
    values, spans = person.values, person.spans
    best: list[int] = []
    (first_lo, first_hi, first_offset), later = spans[0], spans[1:]
    for j in range(first_lo, first_hi):
        t0 = values[j] - first_offset
        attempt, limit = [t0], t0 + within
        for lo, hi, offset in later:
            i = bisect.bisect_right(values, attempt[-1] + offset, lo, hi)
            if i == hi or values[i] - offset > limit:
                break
            attempt.append(values[i] - offset)
        if len(attempt) > len(best):
            best = attempt
            if len(best) == len(spans):
                break
    return best


def funnel(people: Iterable[list[list[int]] | Packed], steps, within: int) -> list[dict]:
    """people: per person, the times of their events matching each step (step_times, or Packed),
    in microseconds; within in seconds. One dict per step."""
    reached = [0] * len(steps)
    gaps: list[list[float]] = [[] for _ in steps]
    for times in people:
        best = best_attempt(times, within * MICROSECONDS)
        for k, t in enumerate(best):
            reached[k] += 1
            if k:
                gaps[k].append((t - best[k - 1]) / MICROSECONDS)
    answer = []
    for k, step in enumerate(steps):
        answer.append(
            {
                "step": step_name(step),
                "people": reached[k],
                "conversion_from_first": round(reached[k] / reached[0], 4) if reached[0] else 0.0,
                "conversion_from_previous": round(reached[k] / reached[k - 1], 4)
                if k and reached[k - 1]
                else (1.0 if not k and reached[0] else 0.0),
                "median_seconds_from_previous": round(statistics.median(gaps[k]), 3) if gaps[k] else None,
            }
        )
    return answer
