"""How big and how long each measurement is, for the full run and for --quick."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Plan:
    """Sizes and durations of one run; durations in seconds."""

    name: str
    warmup_seconds: int
    load_seconds: int  # each measured HTTP load, figure and floor alike
    rounds: int  # figure and floor alternate this many times; the medians are reported
    connections: int  # concurrent connections of the write loads (wrk -c32, as the floors were measured)
    batch_size: int
    xadd_floor_events: int
    freshness_seconds: int
    freshness_events_per_second: int
    read_seconds: int
    read_connections: int
    small_events: int
    large_events: int
    ceiling_seconds: int
    scale_events: int  # drained with each shard count of the scale-out figure
    append_requests: int  # POST /events bodies of each round of the dedupe append figure, per layout
    days: int = 90  # the reads phase's events span this many days ending now: the analytics figures read up to 90

    def describe(self) -> str:
        return (
            f"{self.name}: write loads {self.rounds} × {self.load_seconds} s each (after {self.warmup_seconds} s warm-up), "
            f"{self.connections} connections; freshness {self.freshness_seconds} s at {self.freshness_events_per_second} events/s; "
            f"reads {self.read_seconds} s at {self.read_connections} clients on {self.small_events:,} and {self.large_events:,} events "
            f"over {self.days} days"
        )


FULL = Plan(
    name="full",
    warmup_seconds=2,
    load_seconds=8,
    rounds=2,
    connections=32,
    batch_size=100,
    xadd_floor_events=300_000,
    freshness_seconds=60,
    freshness_events_per_second=1000,
    read_seconds=10,
    read_connections=8,
    small_events=1_000_000,
    large_events=10_000_000,
    ceiling_seconds=4,
    scale_events=100_000,
    append_requests=1000,
)

QUICK = dataclasses.replace(
    FULL,
    name="quick",
    warmup_seconds=1,
    load_seconds=3,
    rounds=1,
    xadd_floor_events=50_000,
    freshness_seconds=15,
    read_seconds=3,
    small_events=100_000,
    large_events=300_000,
    ceiling_seconds=2,
    scale_events=20_000,
    append_requests=150,
)
