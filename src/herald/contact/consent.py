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

Set-based writers (the CSV import's merge) cannot raise per row; they apply the same rule as
``guarded_status_sql``: the stored status wins when it is ``opted_out``, otherwise the incoming
status (or the stored one if none is incoming) is kept. A row whose incoming status differs from
the guarded result should be counted as skipped for consent and reported, never written.
``would_downgrade_sql`` gives that condition for reporting.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func

from herald.contact.models import ChannelKind, ConsentStatus
from herald.kit.errors import Conflict

RESUBSCRIBE_HINT = (
    "To re-subscribe, POST /v1/contacts/{id}/consent with "
    '{"channel": "%s", "status": "opted_in", "resubscribe": true, "method": …, "source": …} '
    "so the new consent is recorded as its own event with how it was captured."
)


class ConsentLocked(Conflict):
    """A change that would turn an opted-out contact back in without an explicit re-subscribe."""


def is_allowed(current: ConsentStatus | None, new: ConsentStatus, *, resubscribe: bool) -> bool:
    """Whether ``current → new`` may happen (see the module docstring)."""
    if current is not ConsentStatus.opted_out or new is ConsentStatus.opted_out:
        return True
    return resubscribe


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


def guarded_status_sql(current: Any, incoming: Any) -> Any:
    """SQL form of the rule for set-based merges: the status to store.

    ``current`` is the stored column, ``incoming`` the new value (may be NULL: keep current).
    """
    return case(
        (current == ConsentStatus.opted_out.value, current),
        else_=func.coalesce(incoming, current),
    )


def would_downgrade_sql(current: Any, incoming: Any) -> Any:
    """SQL condition: the incoming status was refused because the contact opted out."""
    return (current == ConsentStatus.opted_out.value) & (
        func.coalesce(incoming, current) != ConsentStatus.opted_out.value
    )
