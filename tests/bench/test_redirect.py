"""The ``redirect`` scenario, run for real but short: every click it sends is recorded."""

from __future__ import annotations

import os

from herald.bench.runner import run_scenario


async def test_redirect_scenario_records_every_click(database_url: str) -> None:
    scratch = f"herald_test_bench_redirect_{os.getpid()}"

    result = await run_scenario("redirect", database_url, size=300, runs=1, database=scratch)

    extra = result["extra"]
    assert (result["units"], result["unit"]) == (300, "requests")
    assert extra["requests"] == extra["clicks_recorded"] == 300
    assert extra["links"] == 10_000
    assert 0 < extra["p50_ms"] <= extra["p99_ms"] <= extra["max_ms"]
    assert extra["server_cpu_ms_per_request"] > 0
