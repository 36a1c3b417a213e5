"""The ``dispatch`` scenario, run for real but tiny: every message ends sent, once."""

from __future__ import annotations

import os

from herald.bench.runner import run_scenario


async def test_dispatch_scenario_sends_every_message_once(database_url: str) -> None:
    scratch = f"herald_test_bench_dispatch_{os.getpid()}"

    result = await run_scenario("dispatch", database_url, size=300, runs=1, database=scratch)

    extra = result["extra"]
    assert (result["units"], result["unit"]) == (300, "messages")
    assert (extra["sent"], extra["failed"], extra["simulator_listed"]) == (300, 0, 300)
    assert extra["worker_peak_rss_mb"] > 0
