"""Funnels and sessions from individual sequences (pure): the README's definitions, over rows the db wing reads.

Funnel: a person reaches step k when, after an event matching step 1, events matching steps
2..k follow in that order, each strictly later than the one before, all within `within` seconds
of the step-1 event. Each of a person's step-1 events is tried; the person counts at the deepest
step any of them reaches (ties: the earliest start), and the gaps between steps come from that
attempt. For a given start, taking the earliest match of each next step reaches deepest.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable

from engine.core import constants as c
from engine.core.query import Query, bad

MIN_STEPS, MAX_STEPS = 2, 20
_STEP = re.compile(r"^[^:\x00]+(:[^\x00]+)?$")


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
    return step[0] == action and (step[1] is None or step[1] == element)


def best_attempt(events: list[tuple[float, str, str | None]], steps, within: float) -> list[float]:
    """The times of the steps the person's deepest attempt reached (empty: never step 1). Events sorted by time."""
    best: list[float] = []
    for i, (t0, action, element) in enumerate(events):
        if not _matches(steps[0], action, element):
            continue
        times = [t0]
        for t, action_j, element_j in events[i + 1 :]:
            if len(times) == len(steps) or t - t0 > within:
                break
            if t > times[-1] and _matches(steps[len(times)], action_j, element_j):
                times.append(t)
        if len(times) > len(best):
            best = times
            if len(best) == len(steps):
                break
    return best


def funnel(rows: Iterable[tuple[str, float, str, str | None]], steps, within: float) -> list[dict]:
    """rows: (person, epoch seconds, action, element) sorted by person then time; one dict per step."""
    reached = [0] * len(steps)
    gaps: list[list[float]] = [[] for _ in steps]

    def close(events):
        times = best_attempt(events, steps, within)
        for k, t in enumerate(times):
            reached[k] += 1
            if k:
                gaps[k].append(t - times[k - 1])

    current, events = None, []
    for who, t, action, element in rows:
        if who != current:
            if events:
                close(events)
            current, events = who, []
        events.append((float(t), action, element))
    if events:
        close(events)
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
