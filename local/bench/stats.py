"""Pure arithmetic of the figures: percentiles, rates and the freshness of acknowledged events."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between closest ranks; None when empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    if math.isinf(ordered[high]):
        return ordered[high]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, p50, p90, p99 and max of a list of latencies (in whatever unit they came)."""
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


def rate(count: float, seconds: float) -> float | None:
    """count per second; None when no time passed."""
    return count / seconds if seconds > 0 else None


def ratio(value: float | None, floor: float | None) -> float | None:
    """value / floor; None when either is missing or the floor is zero."""
    if value is None or not floor:
        return None
    return value / floor


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def freshness_lags(acked_at: Sequence[float], polls: Sequence[tuple[float, int]]) -> tuple[list[float], int]:
    """Seconds from each acknowledgement until a poll first counted that many events.

    acked_at: when each event got its 202 (any order). polls: (when the answer arrived,
    events counted since the start) in time order. The k-th acknowledged event counts as seen
    at the first poll, answered after its acknowledgement, whose count reaches k. Returns the
    lags and how many events no poll ever counted.
    """
    acks = sorted(acked_at)
    times = [t for t, _ in polls]
    # Counts can only grow while events are added; a dip (a poll racing a commit) is ignored.
    running, counts = 0, []
    for _, count in polls:
        running = max(running, count)
        counts.append(running)
    lags: list[float] = []
    missing = 0
    for k, acked in enumerate(acks, start=1):
        first = bisect.bisect_left(counts, k)
        start = bisect.bisect_left(times, acked)
        index = max(first, start)
        if index >= len(polls):
            missing += 1
            continue
        lags.append(times[index] - acked)
    return lags, missing
