"""Drip sequences: who the launch reached walks through the steps after their delays, set-based
per sweep, and stops on a click, a reply or an opt-out."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from herald.campaign.automation_drip import run_drips
from herald.campaign.models import (
    Campaign,
    CampaignEnrollment,
    CampaignMode,
    CampaignStatus,
    CampaignStep,
    StopReason,
)
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.kit.models import utcnow
from herald.message.models import Message, MessageEvent, MessageStatus
from tests.campaign.helpers import create, many_contacts, noon_zone
from tests.conftest import TenantFixture
from tests.message.dispatch_fixtures import make_channel
from tests.sim.server import SimServer


async def _drip(db: Database, tenant_id: UUID, campaign_id: UUID) -> None:
    """Make the campaign a drip of two steps: at once, then an hour later."""
    async with db.tenant_session(tenant_id) as session:
        await session.execute(
            update(Campaign).where(Campaign.id == campaign_id).values(mode=CampaignMode.drip)
        )
        session.add_all(
            CampaignStep(
                tenant_id=tenant_id,
                campaign_id=campaign_id,
                position=position,
                delay_minutes=delay,
                body=f"{text} Reply STOP to opt out",
            )
            for position, delay, text in [(0, 0, "Step one."), (1, 60, "Step two.")]
        )


async def _by_round(db: Database, campaign_id: UUID) -> dict[int, dict[UUID, str]]:
    async with db.system_session() as session:
        rows = await session.execute(
            select(Message.campaign_round, Message.contact_id, Message.body).where(
                Message.campaign_id == campaign_id
            )
        )
        found: dict[int, dict[UUID, str]] = {}
        for round_, contact_id, body in rows:
            found.setdefault(int(round_), {})[contact_id] = body or ""
        return found


async def _enrollments(db: Database, campaign_id: UUID) -> dict[UUID, CampaignEnrollment]:
    async with db.system_session() as session:
        found = await session.scalars(
            select(CampaignEnrollment).where(CampaignEnrollment.campaign_id == campaign_id)
        )
        return {e.contact_id: e for e in found}


async def _event(
    db: Database, tenant_id: UUID, campaign_id: UUID, contact_id: UUID, kind: str
) -> None:
    async with db.tenant_session(tenant_id) as session:
        session.add(
            MessageEvent(
                id=new_id(),
                tenant_id=tenant_id,
                type=kind,
                contact_id=contact_id,
                campaign_id=campaign_id,
                data={},
                occurred_at=utcnow(),
            )
        )


async def test_steps_follow_their_delays_and_stop_on_a_click_or_an_opt_out(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    await many_contacts(db, tenant.id, 4, noon_zone())
    made = await create(client, tenant, channel.id)
    campaign_id = UUID(made["id"])
    await _drip(db, tenant.id, campaign_id)
    sent = await client.post(f"/v1/campaigns/{campaign_id}/send", headers=tenant.headers)
    assert sent.status_code == 202, sent.text
    now = utcnow()

    assert await run_drips(db, now) == 4

    rounds = await _by_round(db, campaign_id)
    assert set(rounds) == {0, 1} and rounds[1].keys() == rounds[0].keys()
    assert all(body.startswith("Step one.") for body in rounds[1].values())
    enrolled = await _enrollments(db, campaign_id)
    assert {e.step_position for e in enrolled.values()} == {1}
    assert await run_drips(db, now + timedelta(minutes=30)) == 0  # step two is not due yet

    clicked, opted, *going = sorted(rounds[0])
    await _event(db, tenant.id, campaign_id, clicked, "clicked")
    await _event(db, tenant.id, campaign_id, opted, "opt_out")

    assert await run_drips(db, now + timedelta(minutes=61)) == 2

    rounds = await _by_round(db, campaign_id)
    assert sorted(rounds[2]) == going
    assert all(body.startswith("Step two.") for body in rounds[2].values())
    enrolled = await _enrollments(db, campaign_id)
    assert enrolled[clicked].stopped_reason is StopReason.clicked
    assert enrolled[opted].stopped_reason is StopReason.opted_out
    assert {enrolled[c].stopped_reason for c in going} == {StopReason.completed}
    assert await run_drips(db, now + timedelta(days=1)) == 0

    async with db.system_session() as session:
        await session.execute(
            update(Message)
            .where(Message.campaign_id == campaign_id)
            .values(status=MessageStatus.sent)
        )
    await run_drips(db, now + timedelta(days=1))
    async with db.system_session() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.status is CampaignStatus.completed


async def test_a_message_whose_contact_is_gone_enrolls_no_one_and_stops_no_sweep(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    """``messages`` has no foreign key: a contact deleted while the launch ran can leave a
    message naming no contact. The others still walk through the steps."""
    channel = await make_channel(db, app, tenant.id, sim)
    await many_contacts(db, tenant.id, 3, noon_zone())
    made = await create(client, tenant, channel.id)
    campaign_id = UUID(made["id"])
    await _drip(db, tenant.id, campaign_id)
    sent = await client.post(f"/v1/campaigns/{campaign_id}/send", headers=tenant.headers)
    assert sent.status_code == 202, sent.text
    gone, *kept = sorted((await _by_round(db, campaign_id))[0])
    async with db.system_session() as session:
        await session.execute(
            update(Message)
            .where(Message.campaign_id == campaign_id, Message.contact_id == gone)
            .values(contact_id=new_id())
        )

    assert await run_drips(db, utcnow()) == 2

    assert sorted(await _enrollments(db, campaign_id)) == kept


async def test_a_sweep_keeps_each_tenants_drip_to_its_own_contacts_and_events(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sim: SimServer,
) -> None:
    """Both tenants run a drip to the same numbers; one sweep moves both, each within its own
    tenant, and a click in one tenant stops no one in the other."""
    campaigns: dict[UUID, UUID] = {}
    for owner in (tenant, other_tenant):
        channel = await make_channel(db, app, owner.id, sim)
        await many_contacts(db, owner.id, 2, noon_zone())
        made = await create(client, owner, channel.id)
        campaigns[owner.id] = UUID(made["id"])
        await _drip(db, owner.id, campaigns[owner.id])
        sent = await client.post(f"/v1/campaigns/{made['id']}/send", headers=owner.headers)
        assert sent.status_code == 202, sent.text
    now = utcnow()
    theirs = sorted((await _by_round(db, campaigns[other_tenant.id]))[0])
    await _event(db, other_tenant.id, campaigns[other_tenant.id], theirs[0], "clicked")

    assert await run_drips(db, now) == 3

    tenant_of = {campaign: owner for owner, campaign in campaigns.items()}
    async with db.system_session() as session:
        rows = (
            await session.execute(
                select(Message.tenant_id, Message.campaign_id).where(
                    Message.campaign_id.in_(campaigns.values())
                )
            )
        ).all()
    assert len(rows) == 4 + 3  # both launches, then step one for everyone but the clicker
    assert all(owner == tenant_of[campaign] for owner, campaign in rows)
    ours = await _enrollments(db, campaigns[tenant.id])
    assert {e.step_position for e in ours.values()} == {1}
    assert {e.stopped_reason for e in ours.values()} == {None}
    others = await _enrollments(db, campaigns[other_tenant.id])
    assert others[theirs[0]].stopped_reason is StopReason.clicked
    assert others[theirs[1]].step_position == 1
