"""The ``template-render`` scenario, run small (no timing thresholds)."""

from __future__ import annotations

from pathlib import Path

from herald.bench.registry import SCENARIOS
from herald.bench.types import BenchContext
from herald.kit.database import Database


async def test_renders_every_recipient_and_its_baseline(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    scenario = SCENARIOS["template-render"]
    measurement = await scenario.run(BenchContext(db, database_url, tmp_path), 50)
    assert (measurement.units, measurement.unit) == (50, "messages")
    assert measurement.seconds > 0 and measurement.baseline_seconds > 0
