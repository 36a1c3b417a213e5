"""Every benchmark scenario, by name, in one explicit dict."""

from __future__ import annotations

from herald.bench.scenarios import api as api_scenario
from herald.bench.types import ScenarioSpec

SCENARIOS: dict[str, ScenarioSpec] = {
    "api": ScenarioSpec(
        api_scenario.run,
        2000,
        "authenticated GET of a small resource; baseline: the same server's /healthz",
    ),
}
