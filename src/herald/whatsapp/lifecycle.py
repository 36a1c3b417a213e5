"""A template's review status: the allowed moves, and Meta's names for them.

The same table serves a manual change, Meta's ``message_template_status_update`` webhook and a
sync with Meta's list, so no source can put a template into a state Meta never would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from herald.kit.errors import Conflict, Unprocessable
from herald.kit.models import utcnow
from herald.whatsapp.models import QualityRating, TemplateStatus, WhatsAppTemplate

S = TemplateStatus
Source = Literal["api", "meta_webhook", "sync"]
HISTORY_KEPT = 50

TRANSITIONS: dict[TemplateStatus, frozenset[TemplateStatus]] = {
    S.DRAFT: frozenset({S.PENDING}),
    S.PENDING: frozenset({S.APPROVED, S.REJECTED, S.DELETED}),
    S.APPROVED: frozenset({S.PAUSED, S.DISABLED, S.PENDING, S.ARCHIVED, S.DELETED}),
    S.PAUSED: frozenset({S.APPROVED, S.DISABLED, S.PENDING, S.ARCHIVED, S.DELETED}),
    S.REJECTED: frozenset({S.IN_APPEAL, S.PENDING, S.DELETED}),
    S.IN_APPEAL: frozenset({S.APPROVED, S.REJECTED, S.DELETED}),
    S.DISABLED: frozenset({S.DELETED}),
    S.ARCHIVED: frozenset({S.APPROVED, S.DELETED}),
    S.DELETED: frozenset(),
}
"""Editing an APPROVED, PAUSED or REJECTED template sends it back to review (→ PENDING)."""

EDITABLE = frozenset({S.DRAFT, S.REJECTED, S.APPROVED, S.PAUSED})
"""Meta lets approved, paused and rejected templates be edited; pending, in-appeal and disabled
ones cannot be, and archived or deleted ones are gone from its account."""

DELETABLE = frozenset({S.DRAFT, S.REJECTED, S.DELETED})
"""Rows that no longer stand for a live template at Meta can go; the others are deleted at
Meta first, and its DELETED event marks them."""

META_STATUSES: dict[str, TemplateStatus | None] = {
    "APPROVED": S.APPROVED,
    "REJECTED": S.REJECTED,
    "PENDING": S.PENDING,
    "PAUSED": S.PAUSED,
    "DISABLED": S.DISABLED,
    "IN_APPEAL": S.IN_APPEAL,
    "REINSTATED": S.APPROVED,
    "ARCHIVED": S.ARCHIVED,
    "PENDING_DELETION": S.DELETED,
    "DELETED": S.DELETED,
    "LIMIT_EXCEEDED": S.REJECTED,
    "FLAGGED": None,
    "LOCKED": None,
}
"""Meta's webhook events and listed statuses → local status. ``None``: the event changes no
status (FLAGGED warns about quality before a pause; LOCKED only stops edits).
LIMIT_EXCEEDED (the account holds too many templates) leaves the template unapproved, as a
rejection would; PENDING_DELETION already takes it out of use."""


def from_meta_status(name: str) -> TemplateStatus | None:
    """The local status for one of Meta's status or event names (``None``: no change)."""
    key = name.strip().upper()
    if key not in META_STATUSES:
        raise Unprocessable(
            f"Meta status {name[:40]!r} is not known; expected one of {', '.join(META_STATUSES)}.",
            errors=[{"field": "status", "message": "unknown Meta status"}],
        )
    return META_STATUSES[key]


def quality_from_meta(score: str | None) -> QualityRating:
    """Meta's ``quality_score`` / ``new_quality_score``; anything else is UNKNOWN."""
    try:
        return QualityRating((score or "").strip().upper())
    except ValueError:
        return QualityRating.UNKNOWN


def transition(
    template: WhatsAppTemplate,
    new_status: TemplateStatus,
    *,
    reason: str | None = None,
    source: Source = "api",
    now: datetime | None = None,
) -> bool:
    """Move ``template`` to ``new_status`` and record it; ``False`` when it already was there
    (webhooks are retried and syncs repeat themselves). Refuses moves Meta would not make."""
    old = template.status
    if new_status is old:
        return False
    allowed = TRANSITIONS[old]
    if new_status not in allowed:
        names = ", ".join(sorted(allowed)) or "none (it is final)"
        raise Conflict(
            f"A {old} template cannot become {new_status}; from {old} it can become: {names}.",
            status_now=str(old),
            allowed=sorted(allowed),
        )
    at = now or utcnow()
    template.status = new_status
    template.status_changed_at = at
    if new_status is S.PENDING:
        template.submitted_at = at
    if new_status in (S.REJECTED, S.PAUSED, S.DISABLED):
        template.rejection_reason = reason
    elif new_status is S.APPROVED:
        template.rejection_reason = None
    entry = {"from": old, "to": new_status, "at": at.isoformat(), "source": source}
    template.status_history = [*template.status_history, {**entry, "reason": reason}][
        -HISTORY_KEPT:
    ]
    return True
