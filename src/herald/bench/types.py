"""The contract between the bench runner and its scenarios."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herald.kit.database import Database


@dataclass
class BenchContext:
    """What a scenario gets: a migrated database of its own and a scratch directory."""

    db: Database
    database_url: str
    workdir: Path


@dataclass
class Measurement:
    """One run of a scenario. ``rate`` and ``baseline_rate`` are units per second, measured in
    the same run; ``ratio`` = rate / baseline_rate. ``extra`` holds scenario-specific figures."""

    units: int
    seconds: float
    baseline_seconds: float
    unit: str = "rows"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.units / self.seconds if self.seconds else 0.0

    @property
    def baseline_rate(self) -> float:
        return self.units / self.baseline_seconds if self.baseline_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / self.baseline_rate if self.baseline_rate else 0.0


Scenario = Callable[[BenchContext, int], Awaitable[Measurement]]
"""``await scenario(ctx, size)``: set up its data, time itself and its baseline."""


@dataclass(frozen=True)
class ScenarioSpec:
    run: Scenario
    default_size: int
    description: str
