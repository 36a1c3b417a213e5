"""The ``sms-inspect`` scenario: its bodies are deterministic and mixed as documented, and a
small run reports every figure (no timing thresholds)."""

from __future__ import annotations

from pathlib import Path

from herald.bench.registry import SCENARIOS
from herald.bench.scenarios import sms
from herald.bench.types import BenchContext
from herald.kit.database import Database
from herald.sms.encoding import inspect


def test_bodies_are_deterministic_and_mixed() -> None:
    first = [body for chunk in sms.bodies(3000) for body in chunk]
    assert first == [body for chunk in sms.bodies(3000) for body in chunk]
    assert len(first) == 3000
    assert len(set(first)) > 2990
    assert all(20 <= len(body) <= 400 + 8 for body in first)
    found = [inspect(body) for body in first]
    ucs2 = sum(f.encoding == "UCS-2" for f in found) / len(found)
    extension = sum(f.units > f.characters for f in found if f.encoding == "GSM-7") / len(found)
    assert 0.12 < ucs2 < 0.22  # 7% look-alikes + 10% emoji or other scripts
    assert 0.05 < extension < 0.11
    assert any(f.segments >= 3 for f in found)


async def test_small_run_reports_rates_and_the_mix(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    ctx = BenchContext(db=db, database_url=database_url, workdir=tmp_path)
    measured = await SCENARIOS["sms-inspect"].run(ctx, 2500)
    assert (measured.units, measured.unit) == (2500, "bodies")
    assert measured.rate > 0 and measured.baseline_rate > 0
    assert measured.extra["smart_rate"] > 0
    assert measured.extra["gsm_share"] < measured.extra["gsm_share_smart"] < 1
    assert measured.extra["mean_segments"] > 1
