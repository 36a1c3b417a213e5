"""The import's counters are listed once (``ImportCounts``); the rest derives from that list."""

from __future__ import annotations

from herald.imports.models import ImportBatch
from herald.imports.schemas import ImportBatchRead, ImportCounts, Totals, count_column


def test_every_counter_has_its_batch_column() -> None:
    columns = ImportBatch.__table__.columns
    missing = [name for name in ImportCounts.names() if count_column(name) not in columns]
    assert missing == []


def test_totals_round_trip_through_a_batch() -> None:
    totals = Totals(processed=15, created=1, updated=2, skipped=3, rejected=4, consent_kept=5)
    batch = ImportBatch(**totals.columns())
    assert Totals.of(batch) == totals
    assert ImportCounts.of(batch).model_dump() == totals.model_dump(exclude={"processed"})


def test_the_api_shows_every_counter() -> None:
    counts = ImportBatchRead.model_json_schema()["$defs"]["ImportCounts"]["properties"]
    assert tuple(counts) == ImportCounts.names()
