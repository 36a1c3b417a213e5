"""Every benchmark scenario, by name, in one explicit dict."""

from __future__ import annotations

from herald.bench.types import ScenarioSpec

SCENARIOS: dict[str, ScenarioSpec] = {}
