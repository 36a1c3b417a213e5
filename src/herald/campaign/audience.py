"""Who a campaign reaches, as WHERE conditions over ``contacts``.

Three parts, kept apart so that the preflight can say why each contact is left out: the
audience (who was asked for), the campaign's own exclusions, and the rules (eligibility from
``herald.contact.eligibility``, marketing consent, the frequency cap). The launch ANDs them
all into its single ``INSERT … SELECT``; the preflight turns the rules into one ``CASE``
naming the first rule each contact fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from herald.campaign.models import Campaign
from herald.contact.eligibility import Purpose, on_dnc_list, recently_messaged, status_column
from herald.contact.models import Contact
from herald.message.models import Direction, Message, MessageStatus
from herald.message.service import CONSENTED
from herald.segment.service import compile_for_tenant, get_segment
from herald.tenant.schemas import FrequencyCap

ELIGIBLE = "eligible"
REASONS = (
    "blocked",
    "invalid_number",
    "opted_out",
    "do_not_contact",
    "no_consent",
    "suppressed",
    "frequency_cap",
)


@dataclass(frozen=True)
class Conditions:
    """The three parts, each a list of conditions ANDed together."""

    audience: list[ColumnElement[bool]]
    exclusions: list[ColumnElement[bool]]
    rules: list[tuple[str, ColumnElement[bool]]]
    """(reason, condition the contact must meet) in the order the preflight reports them."""

    def all(self) -> list[ColumnElement[bool]]:
        return [*self.audience, *self.exclusions, *(cond for _, cond in self.rules)]

    def reason(self) -> ColumnElement[str]:
        """The first rule a contact fails, or ``eligible``."""
        whens = [(not_(cond), literal(name)) for name, cond in self.rules]
        return case(*whens, else_=literal(ELIGIBLE))


async def conditions(
    session: AsyncSession, campaign: Campaign, cap: FrequencyCap | None, now: datetime
) -> Conditions:
    tenant_id = campaign.tenant_id
    audience = [
        Contact.tenant_id == tenant_id,
        Contact.erased_at.is_(None),
        await _audience(session, tenant_id, campaign.audience),
    ]
    exclusions = await _exclusions(session, tenant_id, campaign.exclusions, now)
    return Conditions(audience, exclusions, _rules(campaign, cap, now))


async def _audience(
    session: AsyncSession, tenant_id: UUID, audience: dict[str, Any]
) -> ColumnElement[bool]:
    if audience.get("all"):
        return true()
    if "segment_id" in audience:
        return await _segment(session, tenant_id, UUID(audience["segment_id"]))
    if "tags" in audience:
        tags: ColumnElement[bool] = Contact.tags.overlap(cast(audience["tags"], ARRAY(Text)))
        return tags
    if "contact_ids" in audience:
        return Contact.id.in_([UUID(i) for i in audience["contact_ids"]])
    if "phones" in audience:
        return Contact.phone_e164.in_(audience["phones"])
    return false()


async def _segment(session: AsyncSession, tenant_id: UUID, segment_id: UUID) -> ColumnElement[bool]:
    segment = await get_segment(session, tenant_id, segment_id)
    return await compile_for_tenant(session, tenant_id, segment.rules)


async def _exclusions(
    session: AsyncSession, tenant_id: UUID, exclusions: dict[str, Any], now: datetime
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    for segment_id in exclusions.get("segment_ids", []):
        rule = await _segment(session, tenant_id, UUID(segment_id))
        found.append(not_(func.coalesce(rule, false())))
    if exclusions.get("tags"):
        found.append(not_(Contact.tags.overlap(cast(exclusions["tags"], ARRAY(Text)))))
    days = exclusions.get("received_campaign_within_days")
    if days:
        recent = select(Message.contact_id).where(
            Message.tenant_id == tenant_id,
            Message.campaign_id.is_not(None),
            Message.contact_id.is_not(None),
            Message.created_at > now - timedelta(days=days),
        )
        found.append(Contact.id.not_in(recent))
    return found


def _rules(
    campaign: Campaign, cap: FrequencyCap | None, now: datetime
) -> list[tuple[str, ColumnElement[bool]]]:
    kind = campaign.kind
    status = status_column(kind)
    marketing = campaign.purpose is Purpose.marketing
    rules: list[tuple[str, ColumnElement[bool]]] = [
        ("blocked", Contact.blocked.is_(False)),
        ("invalid_number", Contact.phone_e164.is_not(None)),
        ("opted_out", status != "opted_out"),
        ("do_not_contact", not_(on_dnc_list())),
    ]
    if marketing:
        rules.append(("no_consent", status.in_([s.value for s in CONSENTED])))
        rules.append(("suppressed", not_(recently_messaged(campaign.tenant_id, kind))))
        if cap is not None:
            rules.append(("frequency_cap", Contact.id.not_in(_capped(campaign, cap, now))))
    return rules


def _capped(campaign: Campaign, cap: FrequencyCap, now: datetime) -> Any:
    """Contacts who already got ``max_messages`` marketing messages (not failed, not this
    campaign's) in the rolling window: one aggregate, hashed by the planner."""
    return (
        select(Message.contact_id)
        .where(
            Message.tenant_id == campaign.tenant_id,
            Message.contact_id.is_not(None),
            Message.direction == Direction.outbound,
            Message.purpose == Purpose.marketing,
            Message.created_at > now - timedelta(days=cap.window_days),
            Message.status != MessageStatus.failed,
            or_(Message.campaign_id.is_(None), Message.campaign_id != campaign.id),
        )
        .group_by(Message.contact_id)
        .having(func.count() >= cap.max_messages)
    )


def everything(parts: Conditions) -> ColumnElement[bool]:
    return and_(*parts.all())
