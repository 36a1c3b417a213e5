"""The ``cost`` scenario, run for real but small (no timing thresholds)."""

from __future__ import annotations

import os

from herald.bench.runner import run_scenario


async def test_cost_scenario_prices_the_whole_audience(database_url: str) -> None:
    scratch = f"herald_test_bench_cost_{os.getpid()}"

    result = await run_scenario("cost", database_url, size=1200, runs=1, database=scratch)

    assert (result["scenario"], result["units"], result["unit"]) == ("cost", 1200, "contacts")
    assert result["extra"]["recipients"] == 1080, "one in ten is opted out"
    assert result["extra"]["countries"] == 12
