"""The ``wallet`` bench scenario, run for real but small (no timing thresholds)."""

from __future__ import annotations

import os

from herald.bench.runner import run_scenario


async def test_wallet_scenario_reserves_every_send(database_url: str) -> None:
    scratch = f"herald_test_bench_wallet_{os.getpid()}"

    result = await run_scenario("wallet", database_url, size=1200, runs=1, database=scratch)

    assert (result["scenario"], result["units"], result["unit"]) == ("wallet", 1200, "sends")
    assert result["extra"]["batches"] == 3
    assert result["rate"] > 0 and result["baseline_rate"] > 0
