"""The ``audience`` scenario, run for real but small (no timing thresholds)."""

from __future__ import annotations

import os

from herald.bench.runner import run_scenario


async def test_audience_scenario_launches_to_the_eligible_contacts_only(database_url: str) -> None:
    scratch = f"herald_test_bench_audience_{os.getpid()}"

    result = await run_scenario("audience", database_url, size=700, runs=1, database=scratch)

    assert (result["scenario"], result["unit"]) == ("audience", "messages")
    extra = result["extra"]
    assert 650 < extra["messages"] < 750, "about 28% of the 1,000 seeded are left out"
    assert result["units"] == extra["messages"]
