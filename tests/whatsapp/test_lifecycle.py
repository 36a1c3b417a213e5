"""The status machine (every pair of statuses, allowed or refused) and Meta's names."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest

from herald.kit.errors import Conflict, Unprocessable
from herald.whatsapp.models import QualityRating, TemplateStatus, WhatsAppTemplate
from herald.whatsapp.templates import from_meta_status, quality_from_meta, transition

S = TemplateStatus
ALLOWED = {
    (S.DRAFT, S.PENDING),
    (S.PENDING, S.APPROVED),
    (S.PENDING, S.REJECTED),
    (S.PENDING, S.DELETED),
    (S.APPROVED, S.PAUSED),
    (S.APPROVED, S.DISABLED),
    (S.APPROVED, S.PENDING),
    (S.APPROVED, S.ARCHIVED),
    (S.APPROVED, S.DELETED),
    (S.PAUSED, S.APPROVED),
    (S.PAUSED, S.DISABLED),
    (S.PAUSED, S.PENDING),
    (S.PAUSED, S.ARCHIVED),
    (S.PAUSED, S.DELETED),
    (S.REJECTED, S.IN_APPEAL),
    (S.REJECTED, S.PENDING),
    (S.REJECTED, S.DELETED),
    (S.IN_APPEAL, S.APPROVED),
    (S.IN_APPEAL, S.REJECTED),
    (S.IN_APPEAL, S.DELETED),
    (S.DISABLED, S.DELETED),
    (S.ARCHIVED, S.APPROVED),
    (S.ARCHIVED, S.DELETED),
}
MOVES = [(a, b) for a, b in product(S, S) if a is not b]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def template(status: TemplateStatus) -> WhatsAppTemplate:
    return WhatsAppTemplate(status=status, status_history=[], rejection_reason=None)


@pytest.mark.parametrize(("old", "new"), MOVES, ids=[f"{a}->{b}" for a, b in MOVES])
def test_transition_table(old: TemplateStatus, new: TemplateStatus) -> None:
    row = template(old)
    if (old, new) in ALLOWED:
        assert transition(row, new, reason="why", source="sync", now=NOW) is True
        assert (row.status, row.status_changed_at) == (new, NOW)
        assert row.status_history == [
            {"from": old, "to": new, "at": NOW.isoformat(), "source": "sync", "reason": "why"}
        ]
    else:
        with pytest.raises(Conflict) as caught:
            transition(row, new)
        assert caught.value.extra["allowed"] == sorted(b for a, b in ALLOWED if a is old)
        assert row.status is old and row.status_history == []


def test_same_status_is_a_no_op() -> None:
    row = template(S.APPROVED)
    assert transition(row, S.APPROVED, source="meta_webhook") is False
    assert row.status_history == []


def test_reasons_follow_the_status() -> None:
    row = template(S.DRAFT)
    transition(row, S.PENDING, now=NOW)
    assert row.submitted_at == NOW
    transition(row, S.REJECTED, reason="INVALID_FORMAT")
    assert row.rejection_reason == "INVALID_FORMAT"
    transition(row, S.IN_APPEAL)
    transition(row, S.APPROVED)
    assert row.rejection_reason is None
    assert [h["to"] for h in row.status_history] == ["PENDING", "REJECTED", "IN_APPEAL", "APPROVED"]


def test_history_keeps_the_latest_fifty() -> None:
    row = template(S.APPROVED)
    for _ in range(30):
        transition(row, S.PAUSED)
        transition(row, S.APPROVED)
    assert len(row.status_history) == 50
    assert row.status_history[-1]["to"] == "APPROVED"


@pytest.mark.parametrize(
    ("meta", "local"),
    [
        ("APPROVED", S.APPROVED),
        ("REJECTED", S.REJECTED),
        ("PENDING", S.PENDING),
        ("PAUSED", S.PAUSED),
        ("DISABLED", S.DISABLED),
        ("IN_APPEAL", S.IN_APPEAL),
        ("REINSTATED", S.APPROVED),
        ("ARCHIVED", S.ARCHIVED),
        ("PENDING_DELETION", S.DELETED),
        ("DELETED", S.DELETED),
        ("LIMIT_EXCEEDED", S.REJECTED),
        ("FLAGGED", None),
        ("LOCKED", None),
        ("approved", S.APPROVED),
    ],
)
def test_meta_names(meta: str, local: TemplateStatus | None) -> None:
    assert from_meta_status(meta) is local


def test_unknown_meta_name_is_a_clear_error() -> None:
    with pytest.raises(Unprocessable) as caught:
        from_meta_status("SUSPENDED_FOREVER")
    assert "'SUSPENDED_FOREVER' is not known" in caught.value.detail
    assert "REINSTATED" in caught.value.detail


@pytest.mark.parametrize(
    ("score", "rating"),
    [
        ("GREEN", QualityRating.GREEN),
        ("red", QualityRating.RED),
        (None, QualityRating.UNKNOWN),
        ("PURPLE", QualityRating.UNKNOWN),
    ],
)
def test_quality_from_meta(score: str | None, rating: QualityRating) -> None:
    assert quality_from_meta(score) is rating
