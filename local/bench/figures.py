"""The lines of the table: a figure, the floor it is measured against, their ratio and the goal."""

from __future__ import annotations

import dataclasses
import math

from local.bench.stats import ratio as divide


@dataclasses.dataclass(frozen=True)
class Goal:
    """What a figure must reach; every bound given must hold. No bound: reported only."""

    min_ratio: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    max_ratio: float | None = None

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        """True or False against the bounds; None when there is nothing to check or no value."""
        if self.min_ratio is None and self.min_value is None and self.max_value is None and self.max_ratio is None:
            return None
        if value is None or ((self.min_ratio is not None or self.max_ratio is not None) and ratio is None):
            return False
        checks = []
        if self.min_ratio is not None:
            checks.append(ratio >= self.min_ratio)
        if self.min_value is not None:
            checks.append(value >= self.min_value)
        if self.max_value is not None:
            checks.append(value <= self.max_value)
        if self.max_ratio is not None:
            checks.append(ratio <= self.max_ratio)
        return all(checks)

    def describe(self, unit: str) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f"≥ {self.min_ratio:.2f} of the floor")
        if self.min_value is not None:
            parts.append(f"≥ {format_value(self.min_value, unit)}")
        if self.max_value is not None:
            parts.append(f"≤ {format_value(self.max_value, unit)}")
        if self.max_ratio is not None:
            parts.append(f"≤ {self.max_ratio:g} × the floor")
        return " and ".join(parts) if parts else "reported"


REPORTED = Goal()


@dataclasses.dataclass
class Figure:
    """One line of the table. value and floor share the unit; ratio is value / floor."""

    key: str
    name: str
    unit: str
    value: float | None
    goal: Goal = REPORTED
    floor: float | None = None
    floor_name: str = "—"
    details: dict = dataclasses.field(default_factory=dict)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return divide(self.value, self.floor)

    @property
    def met(self) -> bool | None:
        return self.goal.met(self.value, self.ratio)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "name": self.name,
            "unit": self.unit,
            "value": self.value,
            "floor": self.floor,
            "floor_name": self.floor_name,
            "ratio": self.ratio,
            "goal": {**dataclasses.asdict(self.goal), "text": self.goal.describe(self.unit)},
            "met": self.met,
            "note": self.note,
            "details": self.details,
        }


def format_value(value: float | None, unit: str) -> str:
    """A figure as a person reads it: 5,120 req/s, 12.3 ms, 1.42 s, 96 MB."""
    if value is None:
        return "—"
    if math.isinf(value):
        return "never, within the wait"
    if unit in ("req/s", "events/s"):
        return f"{value:,.0f} {unit}"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g} {unit}".strip()


def format_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def format_met(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "—"}[met]
