"""Who may be messaged: the WHERE conditions every audience query (campaigns, segments) adds.

A contact is eligible on a channel when it belongs to the tenant, is neither erased nor
blocked, still has a number, has not opted out of that channel, and its number is not on the
tenant's do-not-contact list (matched by hash, so erased people's entries keep working). For
marketing, a contact whose last outbound message falls inside the window of any active,
unexpired suppression rule (for that channel or for every channel) is excluded too;
transactional messages ignore suppression rules.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select

from herald.contact.models import (
    ChannelKind,
    ConsentStatus,
    Contact,
    DoNotContact,
    SuppressionRule,
)


class Purpose(StrEnum):
    marketing = "marketing"
    transactional = "transactional"


def status_column(channel: ChannelKind) -> ColumnElement[ConsentStatus]:
    column = Contact.sms_status if channel is ChannelKind.sms else Contact.whatsapp_status
    return column.expression


def on_dnc_list() -> ColumnElement[bool]:
    """True when the contact's number is on its tenant's do-not-contact list."""
    return exists().where(
        DoNotContact.tenant_id == Contact.tenant_id,
        DoNotContact.phone_hash == Contact.phone_hash,
    )


def recently_messaged(tenant_id: UUID, channel: ChannelKind) -> ColumnElement[bool]:
    """True when an active, unexpired suppression rule's window covers ``last_sent_at``.

    Some rule covers it exactly when the longest window does, so the rules are read once per
    statement (an uncorrelated subquery) and each contact costs one comparison; no rule, or
    no ``last_sent_at``, is false."""
    longest = (
        select(func.max(SuppressionRule.window_days))
        .where(
            SuppressionRule.tenant_id == tenant_id,
            SuppressionRule.is_active.is_(True),
            or_(SuppressionRule.expires_at.is_(None), SuppressionRule.expires_at > func.now()),
            or_(SuppressionRule.channel.is_(None), SuppressionRule.channel == channel),
        )
        .scalar_subquery()
    )
    since = func.now() - func.make_interval(0, 0, 0, longest)
    return func.coalesce(Contact.last_sent_at > since, false())


def eligible(tenant_id: UUID, channel: ChannelKind, purpose: Purpose) -> list[ColumnElement[bool]]:
    """The conditions to add to a ``select(Contact)`` (or any query over ``contacts``)."""
    conditions: list[ColumnElement[bool]] = [
        Contact.tenant_id == tenant_id,
        Contact.erased_at.is_(None),
        Contact.blocked.is_(False),
        Contact.phone_e164.is_not(None),
        status_column(channel) != ConsentStatus.opted_out.value,
        ~on_dnc_list(),
    ]
    if purpose is Purpose.marketing:
        conditions.append(~recently_messaged(tenant_id, channel))
    return conditions


def eligible_ids(tenant_id: UUID, channel: ChannelKind, purpose: Purpose) -> Select[UUID]:
    """``SELECT contacts.id`` of the eligible contacts (for ``IN`` or ``INSERT … SELECT``)."""
    return select(Contact.id).where(*eligible(tenant_id, channel, purpose))
