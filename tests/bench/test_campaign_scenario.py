"""The ``campaign`` scenario, run for real but tiny: the campaign completes, all sent."""

from __future__ import annotations

import os

from herald.bench.runner import run_scenario


async def test_campaign_scenario_runs_a_campaign_to_completion(database_url: str) -> None:
    scratch = f"herald_test_bench_campaign_{os.getpid()}"

    result = await run_scenario("campaign", database_url, size=300, runs=1, database=scratch)

    extra = result["extra"]
    assert (result["units"], result["unit"]) == (300, "messages")
    assert (extra["sent"], extra["failed"]) == (300, 0)
    assert extra["worker_peak_rss_mb"] > 0
