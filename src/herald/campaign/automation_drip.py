"""Drip sequences: the contacts a drip campaign's launch reached walk through its steps, each
step ``delay_minutes`` after the previous message, until they reply, click or opt out.

Each sweep, set-based: enrol the reach of newly launched drips, stop who engaged, then for
every (campaign, step) due, write that step's messages for all its due contacts in one
``INSERT … SELECT`` (the campaign's own launch statement, given the step's content and the
due contacts as the audience: quiet hours, consent, caps and pricing apply as at launch) and
move those contacts on. A step's messages are the round ``position + 1`` (the launch's
message is round 0), so a repeated sweep adds nothing twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.campaign import launch as launching
from herald.campaign.automation import BATCH, for_each_campaign
from herald.campaign.automation_drip_repository import DripRepository, DueStep
from herald.campaign.content import Composed, Composer, compose
from herald.campaign.launch import Plan, price_of
from herald.campaign.models import (
    CampaignEnrollment,
    CampaignStatus,
    CampaignStep,
    CampaignVariant,
)
from herald.campaign.repository import Charge, VariantRow
from herald.campaign.service import get_campaign
from herald.contact.models import Contact
from herald.kit.database import Database
from herald.kit.errors import NotFound
from herald.tenant.service import get_tenant


async def run_drips(db: Database, now: datetime) -> int:
    """One sweep; returns how many step messages were written."""
    async with db.system_session() as session:
        repo = DripRepository(session)
        await repo.enroll(now)
        await repo.stop_engaged(now)
        due = await repo.due(now, BATCH)
    written = 0
    for step in due:
        work = partial(_send_step, step)
        written += await for_each_campaign(db, [(step.tenant_id, step.campaign_id)], work, now)
    async with db.system_session() as session:
        await DripRepository(session).complete_finished(now)
    return written


async def _send_step(
    step: DueStep, session: AsyncSession, tenant_id: UUID, campaign_id: UUID, now: datetime
) -> int:
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    if campaign.status is not CampaignStatus.running:
        return 0
    content = await session.scalar(
        select(CampaignStep).where(
            CampaignStep.tenant_id == tenant_id,
            CampaignStep.campaign_id == campaign_id,
            CampaignStep.position == step.position,
        )
    )
    if content is None:
        raise NotFound(f"Drip campaign {campaign_id} has no step {step.position}.")
    tenant = await get_tenant(session, tenant_id)
    plan = await launching.plan(session, tenant, campaign, now, step.position + 1)
    written = await launching.run(session, await _step_plan(session, plan, content, step, now))
    await DripRepository(session).advance(step, now)
    return written


async def _step_plan(
    session: AsyncSession, plan: Plan, content: CampaignStep, step: DueStep, now: datetime
) -> Plan:
    """The launch's plan with the step's content in place of the variants, and the contacts
    due for the step as the audience. Its messages carry the campaign's first variant (a drip
    has one) so reports group them with it; the round tells the steps apart."""
    first = plan.launch.variants[0]
    variant = CampaignVariant(
        id=first.variant_id,
        tenant_id=content.tenant_id,
        campaign_id=content.campaign_id,
        label=plan.composed[0].label,
        share_percent=100,
        position=0,
        body=content.body,
        template_id=content.template_id,
        whatsapp_template_id=content.whatsapp_template_id,
        params=content.params,
    )
    [composed] = await compose(session, Composer(plan.tenant, plan.campaign), [variant])
    due = select(CampaignEnrollment.contact_id).where(
        CampaignEnrollment.tenant_id == content.tenant_id,
        CampaignEnrollment.campaign_id == content.campaign_id,
        CampaignEnrollment.step_position == step.position,
        CampaignEnrollment.stopped_reason.is_(None),
        CampaignEnrollment.next_step_at <= now,
    )
    parts = replace(plan.parts, audience=[*plan.parts.audience, Contact.id.in_(due)])
    launch = replace(plan.launch, variants=[_row(composed)], charges=_prices(plan, composed))
    return replace(plan, composed=[composed], parts=parts, launch=launch)


def _row(composed: Composed) -> VariantRow:
    return VariantRow(
        composed.variant_id,
        0,
        100,
        composed.body,
        composed.template,
        composed.encoding,
        composed.segments,
    )


def _prices(plan: Plan, composed: Composed) -> list[Charge]:
    countries = {p.country for p in plan.launch.places} | {""}
    return [
        Charge(country, composed.variant_id, *price_of(plan.prices, country, composed))
        for country in sorted(countries)
    ]
