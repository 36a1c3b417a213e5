"""The consent rule: an opted-out contact never silently comes back.

The rule, per channel (SMS and WhatsApp are independent):

* From ``unknown``, ``implied`` or ``opted_in`` any status may follow (``unknown → opted_in``,
  ``opted_in → opted_out``, ``implied → unknown``…): these are ordinary changes.
* From ``opted_out`` the only status that may follow is ``opted_out`` itself, **unless** the
  change is an explicit re-subscription: ``POST /v1/contacts/{id}/consent`` with
  ``resubscribe: true``, recorded as its own consent event carrying ``details.resubscribe =
  true``, the capture method and the source. Nothing else re-subscribes: not a contact create,
  not a PATCH, not an import, not an integration sync.
* Every effective change writes one ``ConsentEvent`` in the same transaction (status,
  previous status, method, source, wording, actor, ip).

The rule is stated once, as the table ``RESUBSCRIPTIONS``: the transitions only an explicit
re-subscription may make. ``is_allowed`` (the API's check) and ``guarded_status_sql`` /
``refused_sql`` (the SQL of set-based writers such as the CSV import's merge, which cannot raise
per row) are both read from it; ``guarded_status`` is what that SQL computes, in Python, so that
a test can hold the two against each other for every transition.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, tuple_

from herald.contact.models import ChannelKind, ConsentStatus
from herald.kit.errors import Conflict

RESUBSCRIPTIONS: frozenset[tuple[ConsentStatus, ConsentStatus]] = frozenset(
    (ConsentStatus.opted_out, new) for new in ConsentStatus if new is not ConsentStatus.opted_out
)
"""(current, new) pairs that need an explicit re-subscription; every other change is free."""

RESUBSCRIBE_HINT = (
    "To re-subscribe, POST /v1/contacts/{id}/consent with "
    '{"channel": "%s", "status": "opted_in", "resubscribe": true, "method": …, "source": …} '
    "so the new consent is recorded as its own event with how it was captured."
)


class ConsentLocked(Conflict):
    """A change that would turn an opted-out contact back in without an explicit re-subscribe."""


def is_allowed(current: ConsentStatus | None, new: ConsentStatus, *, resubscribe: bool) -> bool:
    """Whether ``current → new`` may happen (see the module docstring)."""
    return resubscribe or (current, new) not in RESUBSCRIPTIONS


def guarded_status(
    current: ConsentStatus | None, incoming: ConsentStatus | None
) -> ConsentStatus | None:
    """The status a writer that cannot refuse a row stores: ``incoming`` when the rule allows
    it without a re-subscription, else the stored one (also when nothing is incoming)."""
    if incoming is None or not is_allowed(current, incoming, resubscribe=False):
        return current
    return incoming


def check_transition(
    channel: ChannelKind,
    current: ConsentStatus | None,
    new: ConsentStatus,
    *,
    resubscribe: bool = False,
) -> None:
    """Raise ``ConsentLocked`` (409) when ``current → new`` breaks the rule."""
    if not is_allowed(current, new, resubscribe=resubscribe):
        raise ConsentLocked(
            f"This contact opted out of {channel.value}; it cannot be set to {new.value} by an "
            "update. " + RESUBSCRIBE_HINT % channel.value
        )


def refused_sql(current: Any, incoming: Any) -> ColumnElement[bool]:
    """SQL condition: ``current → incoming`` needs a re-subscription, so a set-based writer
    keeps ``current`` (false when nothing is incoming)."""
    pairs = sorted((old.value, new.value) for old, new in RESUBSCRIPTIONS)
    return and_(incoming.is_not(None), tuple_(current, incoming).in_(pairs))


def guarded_status_sql(current: Any, incoming: Any) -> ColumnElement[Any]:
    """SQL form of ``guarded_status``: the status to store. ``current`` is the stored column,
    ``incoming`` the new value (NULL: keep current)."""
    return case((or_(incoming.is_(None), refused_sql(current, incoming)), current), else_=incoming)
