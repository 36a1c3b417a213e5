"""The campaign automation's sweeps on real rows: holds for the kill switch, budgets and
WhatsApp templates; messaging tiers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import select, update

from herald.budget.service import spend
from herald.campaign import automation
from herald.campaign.models import Campaign, CampaignStatus, CampaignVariant
from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.models import Message, MessageStatus
from herald.whatsapp.models import TemplateStatus, WhatsAppTemplate
from tests.conftest import TenantFixture
from tests.message.helpers import make_channel, make_template


async def _campaign(
    db: Database,
    tenant_id: UUID,
    channel_id: UUID,
    status: CampaignStatus = CampaignStatus.running,
    kind: ChannelKind = ChannelKind.sms,
    **fields: Any,
) -> UUID:
    async with db.tenant_session(tenant_id) as session:
        campaign = Campaign(
            tenant_id=tenant_id,
            name="Spring sale",
            kind=kind,
            channel_id=channel_id,
            status=status,
            **fields,
        )
        session.add(campaign)
        await session.flush()
        return campaign.id


async def _state(db: Database, campaign_id: UUID) -> tuple[CampaignStatus, str | None]:
    async with db.system_session() as session:
        found = await session.get(Campaign, campaign_id)
        assert found is not None
        return found.status, found.status_reason


async def _sweep(db: Database) -> None:
    async with db.system_session() as session:
        await automation.apply_holds(session, utcnow())


async def _pause(client: httpx.AsyncClient, tenant: TenantFixture, paused: bool) -> None:
    response = await client.patch("/v1/tenant", json={"paused": paused}, headers=tenant.headers)
    assert response.status_code == 200, response.text


async def _budget(client: httpx.AsyncClient, tenant: TenantFixture, daily: int) -> None:
    body = {"daily_limit": daily, "monthly_limit": None}
    response = await client.put("/v1/budget", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text


class TestHolds:
    async def test_the_kill_switch_pauses_every_running_campaign_and_lifting_it_resumes(
        self,
        db: Database,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
    ) -> None:
        channel = await make_channel(db, tenant.id)
        first = await _campaign(db, tenant.id, channel)
        second = await _campaign(db, tenant.id, channel)
        by_hand = await _campaign(db, tenant.id, channel, CampaignStatus.paused)
        theirs = await _campaign(db, other_tenant.id, await make_channel(db, other_tenant.id))

        await _pause(client, tenant, True)
        await _sweep(db)

        paused = (CampaignStatus.paused, "tenant_paused")
        assert [await _state(db, c) for c in (first, second)] == [paused, paused]
        assert await _state(db, by_hand) == (CampaignStatus.paused, None)
        assert await _state(db, theirs) == (CampaignStatus.running, None)

        await _pause(client, tenant, False)
        await _sweep(db)

        running = (CampaignStatus.running, None)
        assert [await _state(db, c) for c in (first, second)] == [running, running]
        assert await _state(db, by_hand) == (CampaignStatus.paused, None)

    async def test_a_reached_budget_pauses_with_its_reason_until_raised(
        self, db: Database, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        campaign = await _campaign(db, tenant.id, await make_channel(db, tenant.id))
        await _budget(client, tenant, 10)
        async with db.system_session() as session:
            await spend(session, tenant.id, [8, 8], utcnow())
        await _sweep(db)
        assert await _state(db, campaign) == (CampaignStatus.paused, "daily_budget_reached")

        await _budget(client, tenant, 100)
        await _sweep(db)
        assert await _state(db, campaign) == (CampaignStatus.running, None)

    async def test_the_kill_switch_outranks_a_budget_and_a_person_s_pause_is_kept(
        self, db: Database, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        channel = await make_channel(db, tenant.id)
        campaign = await _campaign(db, tenant.id, channel)
        await _budget(client, tenant, 0)
        async with db.system_session() as session:
            await spend(session, tenant.id, [1], utcnow())
        await _pause(client, tenant, True)
        await _sweep(db)
        assert await _state(db, campaign) == (CampaignStatus.paused, "tenant_paused")

        await _pause(client, tenant, False)
        await _sweep(db)
        assert await _state(db, campaign) == (CampaignStatus.paused, "daily_budget_reached")

    async def test_a_paused_or_disabled_whatsapp_template_pauses_the_campaigns_using_it(
        self, db: Database, tenant: TenantFixture
    ) -> None:
        channel = await make_channel(db, tenant.id, ChannelKind.whatsapp)
        template = await make_template(db, tenant.id, channel)
        other = await make_template(db, tenant.id, channel, name="other_template")
        using = await _campaign(db, tenant.id, channel, kind=ChannelKind.whatsapp)
        not_using = await _campaign(db, tenant.id, channel, kind=ChannelKind.whatsapp)
        async with db.tenant_session(tenant.id) as session:
            session.add_all(
                [
                    CampaignVariant(
                        tenant_id=tenant.id,
                        campaign_id=using,
                        label="A",
                        whatsapp_template_id=template,
                    ),
                    CampaignVariant(
                        tenant_id=tenant.id,
                        campaign_id=not_using,
                        label="A",
                        whatsapp_template_id=other,
                    ),
                ]
            )

        for status, reason in [
            (TemplateStatus.PAUSED, "template_paused"),
            (TemplateStatus.DISABLED, "template_disabled"),
        ]:
            await _template_status(db, template, status)
            await _sweep(db)
            assert await _state(db, using) == (CampaignStatus.paused, reason)
            assert await _state(db, not_using) == (CampaignStatus.running, None)

        await _template_status(db, template, TemplateStatus.APPROVED)
        await _sweep(db)
        assert await _state(db, using) == (CampaignStatus.running, None)


async def _template_status(db: Database, template_id: UUID, status: TemplateStatus) -> None:
    """Meta's verdict, as the webhook or the sync would store it."""
    async with db.system_session() as session:
        await session.execute(
            update(WhatsAppTemplate).where(WhatsAppTemplate.id == template_id).values(status=status)
        )


class TestTiers:
    async def test_a_channel_s_tier_bounds_new_people_per_24_hours(
        self, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        channel = await make_channel(db, tenant.id, ChannelKind.whatsapp)
        async with db.system_session() as session:
            await session.execute(
                update(Channel).where(Channel.id == channel).values(messaging_tier="TIER_50")
            )
        campaign = await _campaign(db, tenant.id, channel, kind=ChannelKind.whatsapp)
        now = utcnow()
        oldest = now - timedelta(hours=20)
        reached = [
            _message(
                tenant.id, channel, campaign, n, MessageStatus.sent, oldest + timedelta(minutes=n)
            )
            for n in range(47)
        ]
        again = _message(tenant.id, channel, campaign, 0, MessageStatus.queued, None, round_=1)
        new = [
            _message(tenant.id, channel, campaign, 100 + n, MessageStatus.queued, None)
            for n in range(5)
        ]
        async with db.tenant_session(tenant.id) as session:
            session.add_all([*reached, again, *new])

        async with db.system_session() as session:
            assert await automation.bound_by_tiers(session, now) == 2

        async with db.system_session() as session:
            rows = await session.execute(
                select(Message.id, Message.next_attempt_at).where(
                    Message.id.in_([m.id for m in [again, *new]])
                )
            )
            due = {i: at for i, at in rows}
        later = oldest + timedelta(hours=24)
        assert due[again.id] <= now
        assert sorted(due[m.id] == later for m in new) == [False, False, False, True, True]


def _message(
    tenant_id: UUID,
    channel_id: UUID,
    campaign_id: UUID,
    n: int,
    status: MessageStatus,
    sending_at: Any,
    round_: int = 0,
) -> Message:
    return Message(
        tenant_id=tenant_id,
        channel_id=channel_id,
        campaign_id=campaign_id,
        campaign_round=round_,
        to_address=f"+1415555{n:04d}",
        status=status,
        sending_at=sending_at,
        next_attempt_at=utcnow() - timedelta(seconds=1),
    )
