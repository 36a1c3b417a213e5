"""Launching a campaign: its audience becomes queued messages, each with its send time.

The work is one ``INSERT … SELECT`` (``CampaignRepository.launch``) fed with small tables
built here: the audience's number prefixes (zone, legal hours, country), the variants (ranges
of a fixed hash of the contact id, and their composed content), prices per country and
variant, and the senders. Only a body that reads a contact's own fields is rendered per
message afterwards, in batches of ``RENDER_BATCH``, before the transaction commits (the
dispatcher never sees the unrendered rows: it only claims committed rows of a running
campaign).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from herald.campaign.audience import Conditions, conditions
from herald.campaign.automation_rules import AbTest, launch_ranges
from herald.campaign.content import Composed, Composer, compose
from herald.campaign.models import Campaign
from herald.campaign.quiet import Window, law_for, zone_of_number
from herald.campaign.repository import (
    CampaignRepository,
    Charge,
    Launch,
    Place,
    Sender,
    VariantRow,
)
from herald.campaign.tracked_links import link_round
from herald.channel.models import Channel
from herald.channel.service import get_channel, get_pool
from herald.contact.eligibility import Purpose
from herald.cost.pricing import PriceTable
from herald.cost.service import country_of_phone, load_price_table
from herald.kit.errors import HeraldError, Unprocessable
from herald.template.render import RenderContext
from herald.tenant.models import Tenant
from herald.tenant.schemas import FrequencyCap, QuietHours
from herald.tenant.service import settings_of

RENDER_BATCH = 2000


@dataclass(frozen=True)
class Plan:
    """What a launch (or a preflight) of a campaign works from."""

    campaign: Campaign
    tenant: Tenant
    senders: list[Channel]
    composed: list[Composed]
    parts: Conditions
    launch: Launch
    prices: PriceTable


def window_of(campaign: Campaign, tenant: Tenant) -> Window:
    hours = campaign.quiet_hours or settings_of(tenant).quiet_hours.model_dump()
    return Window.of(QuietHours.model_validate(hours))


def cap_of(campaign: Campaign, tenant: Tenant) -> FrequencyCap | None:
    if campaign.purpose is not Purpose.marketing:
        return None
    if campaign.frequency_cap is not None:
        return FrequencyCap.model_validate(campaign.frequency_cap)
    return settings_of(tenant).frequency_cap


async def senders_of(session: AsyncSession, campaign: Campaign) -> list[Channel]:
    """The campaign's channel, or every member of its sender pool."""
    if campaign.channel_id is not None:
        return [await get_channel(session, campaign.tenant_id, campaign.channel_id)]
    assert campaign.sender_pool_id is not None
    pool = await get_pool(session, campaign.tenant_id, campaign.sender_pool_id)
    if not pool.channel_ids:
        raise Unprocessable(f"Sender pool {pool.id} has no channels; add channels to it first.")
    return [await get_channel(session, campaign.tenant_id, i) for i in pool.channel_ids]


async def plan(
    session: AsyncSession,
    tenant: Tenant,
    campaign: Campaign,
    now: datetime,
    round_: int,
) -> Plan:
    repo = CampaignRepository(session)
    senders = await senders_of(session, campaign)
    variants = await repo.variants(campaign.tenant_id, campaign.id)
    composed = await compose(session, Composer(tenant, campaign), variants)
    parts = await conditions(session, campaign, cap_of(campaign, tenant), now)
    window = window_of(campaign, tenant)
    places = [
        _place(prefix, zone, sample, window)
        for prefix, zone, sample in await repo.prefixes(parts.audience)
    ]
    prices = await load_price_table(session, tenant.id, senders[0].provider, campaign.kind, now)
    start, local_start = _start(campaign, now)
    launch = Launch(
        tenant_id=tenant.id,
        campaign_id=campaign.id,
        round=round_,
        purpose=campaign.purpose.value,
        senders=[Sender(c.id, c.sender) for c in senders],
        places=places,
        variants=launch_ranges([_variant_row(c) for c in composed], _ab_test(campaign)),
        charges=_charges(prices, places, composed),
        start=start,
        local_start=local_start,
        tenant_zone=tenant.timezone,
        default_start_minute=window.start_minute,
        default_end_minute=window.end_minute,
        quiet=campaign.purpose is Purpose.marketing,
    )
    return Plan(campaign, tenant, senders, composed, parts, launch, prices)


def _place(prefix: str, contact_zone: str, sample: str, window: Window) -> Place:
    hours = window.narrowed(law_for(sample))
    return Place(
        prefix=prefix,
        contact_zone=contact_zone,
        zone=contact_zone or zone_of_number(sample),
        start_minute=hours.start_minute,
        end_minute=hours.end_minute,
        country=_country(sample),
    )


def _country(phone: str) -> str:
    """The number's country for pricing; '' (the ``*`` price) for a number not valid enough
    to tell (imports keep such numbers; the provider will judge them)."""
    try:
        return country_of_phone(phone) or ""
    except HeraldError:
        return ""


def _start(campaign: Campaign, now: datetime) -> tuple[datetime, datetime | None]:
    schedule = campaign.schedule or {"type": "now"}
    if schedule["type"] == "at":
        return max(now, datetime.fromisoformat(schedule["at"])), None
    if schedule["type"] == "local":
        day = datetime.fromisoformat(schedule["date"]).date()
        return now, datetime.combine(day, time.fromisoformat(schedule["local_time"]))
    return now, None


def _ab_test(campaign: Campaign) -> AbTest | None:
    """The campaign's A/B test with an automatic winner, if it has one."""
    return AbTest.model_validate(campaign.ab) if campaign.ab else None


def _variant_row(composed: Composed) -> VariantRow:
    return VariantRow(
        variant_id=composed.variant_id,
        low=composed.low,
        high=composed.high,
        body=composed.body,
        template=composed.template,
        encoding=composed.encoding,
        segments=composed.segments,
    )


def price_of(
    prices: PriceTable, country: str, composed: Composed, segments: int | None = None
) -> tuple[int | None, str | None]:
    """A message's cost (micro-units) and currency; none when no price applies (it is then
    sent unpriced, as the dispatcher does)."""
    try:
        price = prices.price(country or None, segments or composed.quantity, composed.category)
    except HeraldError:
        return None, None
    return price.total_micros, price.currency


def _charges(prices: PriceTable, places: list[Place], composed: list[Composed]) -> list[Charge]:
    countries = {p.country for p in places} | {""}
    return [
        Charge(country, c.variant_id, *price_of(prices, country, c))
        for country in sorted(countries)
        for c in composed
    ]


async def run(session: AsyncSession, plan_: Plan) -> int:
    """Write the messages; returns how many were added.

    Every caller holds the campaign's row (``FOR UPDATE``), so no other transaction writes
    this round meanwhile: a round without messages yet is written by a plain insert, which
    skips the per-row conflict probe of ``ON CONFLICT`` (a tenth of a launch's time). A round
    already begun (a drip step, an A/B winner, a repeated launch) skips the contacts it has.
    The unique key guards both: a message written twice fails the launch, never doubles."""
    repo = CampaignRepository(session)
    audience = plan_.campaign.audience
    if "phones" in audience:
        await repo.contacts_for_numbers(plan_.tenant.id, audience["phones"])
    where: list[ColumnElement[bool]] = plan_.parts.all()
    await repo.hold_senders(plan_.tenant.id, [s.channel_id for s in plan_.launch.senders])
    started = await repo.has_messages(plan_.tenant.id, plan_.campaign.id, plan_.launch.round)
    added = await repo.launch(plan_.launch, where, skip_existing=started)
    for composed in plan_.composed:
        if composed.source is not None:
            await _render_each(session, plan_, composed)
    await link_round(session, plan_.tenant, plan_.campaign, plan_.launch.round)
    return added


async def _render_each(session: AsyncSession, plan_: Plan, composed: Composed) -> None:
    """Render a per-contact body for each message of the variant, a batch at a time."""
    repo = CampaignRepository(session)
    composer = Composer(plan_.tenant, plan_.campaign)
    assert composed.source is not None
    after: UUID | None = None
    while True:
        batch = await repo.to_render(
            plan_.tenant.id,
            plan_.campaign.id,
            plan_.launch.round,
            composed.variant_id,
            after,
            RENDER_BATCH,
        )
        if not batch:
            return
        rows: list[Any] = []
        for message_id, phone, contact in batch:
            language = composed.language or contact.language
            text = composer.render(composed.source, RenderContext.for_contact(contact), language)
            body, encoding, segments = composer.finish(text, language)
            cost, currency = price_of(plan_.prices, _country(phone or ""), composed, segments)
            rows.append((message_id, body, encoding, segments, cost, currency))
        await repo.set_bodies(plan_.tenant.id, rows)
        after = batch[-1][0]
