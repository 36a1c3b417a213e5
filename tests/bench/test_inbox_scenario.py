"""The ``inbox`` scenario, run for real but small (no timing thresholds)."""

from __future__ import annotations

import os

from herald.bench.runner import run_scenario


async def test_inbox_scenario_lists_the_same_pages_as_plain_sql(database_url: str) -> None:
    scratch = f"herald_test_bench_inbox_{os.getpid()}"

    result = await run_scenario("inbox", database_url, size=20_000, runs=1, database=scratch)

    assert (result["scenario"], result["units"], result["unit"]) == ("inbox", 20_000, "messages")
    assert result["extra"]["conversations_listed"] == 2 * 50
    assert {"tag", "channel", "assigned_to", "unassigned", "closed"} <= set(
        result["extra"]["list_ms"]
    )
    assert set(result["extra"]["thread_ms"]) == {"first", "next", "older"}
