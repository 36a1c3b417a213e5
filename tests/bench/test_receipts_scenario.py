"""The ``receipts`` scenario, run for real but tiny: every callback accepted and applied."""

from __future__ import annotations

import os

from herald.bench.runner import run_scenario


async def test_receipts_scenario_applies_every_callback(database_url: str) -> None:
    scratch = f"herald_test_bench_receipts_{os.getpid()}"

    result = await run_scenario("receipts", database_url, size=400, runs=1, database=scratch)

    extra = result["extra"]
    assert (result["units"], result["unit"]) == (400, "receipts")
    assert extra["delivered"] == 400
    assert extra["p99_ms"] >= extra["p50_ms"] > 0
    assert result["baseline_rate"] > 0
