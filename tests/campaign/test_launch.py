"""The launch statement: send times under quiet hours (zones, laws, DST, local schedules),
frequency caps, A/B shares, per-contact rendering, a double launch adding nothing, and the
unique key refusing what a plain insert would double."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from herald.campaign import launch as launching
from herald.campaign import service
from herald.campaign.models import CampaignStatus
from herald.campaign.quiet import Window, earliest, law_for
from herald.campaign.repository import CampaignRepository
from herald.contact.eligibility import Purpose
from herald.kit.database import Database
from herald.message.models import Message
from herald.tenant.schemas import QuietHours
from tests.campaign.helpers import contact, create, gb_phone, many_contacts
from tests.conftest import TenantFixture
from tests.message.dispatch_fixtures import make_channel
from tests.sim.server import SimServer

DST_MORNING = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
"""US clocks went forward at 07:00 UTC that day: 09:00 in New York is 13:00 UTC, not 14:00."""


async def launch_at(db: Database, tenant_id: UUID, campaign_id: str, now: datetime) -> int:
    """Launch as of ``now``, then pause: these rows are for reading, not for the dispatchers
    of later tests (the database is shared)."""
    async with db.tenant_session(tenant_id) as session:
        campaign = await service.get_campaign(session, tenant_id, UUID(campaign_id))
        added = await service.launch(session, campaign, now)
        campaign.status = CampaignStatus.paused
        return added


async def send_times(db: Database, campaign_id: str) -> dict[UUID, datetime]:
    async with db.system_session() as session:
        rows = await session.execute(
            select(Message.contact_id, Message.next_attempt_at).where(
                Message.campaign_id == UUID(campaign_id)
            )
        )
        return {row[0]: row[1] for row in rows}


async def test_send_times_follow_each_contacts_zone_the_law_and_dst(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    zones = {
        await contact(db, tenant.id, timezone="America/New_York"): "America/New_York",
        await contact(db, tenant.id, timezone="Europe/London"): "Europe/London",
        await contact(db, tenant.id, timezone="Asia/Tokyo"): "Asia/Tokyo",
        await contact(db, tenant.id, timezone="Australia/Sydney"): "Australia/Sydney",
    }
    florida = await contact(db, tenant.id, "+13055550142")
    made = await create(client, tenant, channel.id, quiet_hours={"start": "07:00", "end": "22:00"})

    assert await launch_at(db, tenant.id, made["id"], DST_MORNING) == 5
    times = await send_times(db, made["id"])
    wide = Window.of(QuietHours(start="07:00", end="22:00"))
    for contact_id, zone in zones.items():
        assert times[contact_id] == earliest(DST_MORNING, zone, wide), zone
    law = law_for("+13055550142")
    assert law is not None and law.end.hour == 20  # Florida: 08:00 to 20:00
    assert times[florida] == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT, after DST


async def test_a_contact_no_place_covers_is_timed_in_its_own_zone(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    """Send times are worked out per place (prefix and contact zone) when the plan is made;
    a contact that joins the audience after that is timed on its own, not dropped."""
    tokyo_midnight = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
    channel = await make_channel(db, app, tenant.id, sim)
    known = await contact(db, tenant.id, timezone="Europe/London")
    made = await create(client, tenant, channel.id, quiet_hours={"start": "07:00", "end": "22:00"})
    async with db.tenant_session(tenant.id) as session:
        campaign = await service.get_campaign(session, tenant.id, UUID(made["id"]))
        tenant_row = await service.get_tenant(session, tenant.id)
        plan = await launching.plan(session, tenant_row, campaign, tokyo_midnight, 0)
        late = await contact(db, tenant.id, "+819012345678", timezone="Asia/Tokyo")
        assert await launching.run(session, plan) == 2
    times = await send_times(db, made["id"])
    wide = Window.of(QuietHours(start="07:00", end="22:00"))
    assert times[known] == tokyo_midnight
    assert times[late] == earliest(tokyo_midnight, "Asia/Tokyo", wide)
    assert times[late] == datetime(2026, 3, 8, 22, 0, tzinfo=UTC)  # 07:00 in Tokyo


async def test_a_local_time_schedule_sends_at_that_hour_in_each_zone(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    paris = await contact(db, tenant.id, timezone="Europe/Paris")
    tokyo = await contact(db, tenant.id, timezone="Asia/Tokyo")
    made = await create(
        client,
        tenant,
        channel.id,
        schedule={"type": "local", "date": "2026-07-01", "local_time": "10:00"},
    )
    await launch_at(db, tenant.id, made["id"], datetime(2026, 6, 30, 0, 0, tzinfo=UTC))
    times = await send_times(db, made["id"])
    assert times[paris] == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert times[tokyo] == datetime(2026, 7, 1, 1, 0, tzinfo=UTC)


async def test_transactional_campaigns_ignore_quiet_hours(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    night = await contact(db, tenant.id, timezone="Asia/Tokyo")
    made = await create(
        client, tenant, channel.id, purpose="transactional", body="Your order shipped."
    )
    now = datetime(2026, 3, 8, 16, 0, tzinfo=UTC)  # 01:00 in Tokyo
    await launch_at(db, tenant.id, made["id"], now)
    assert (await send_times(db, made["id"]))[night] == now


async def test_a_double_launch_adds_nothing(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    for _ in range(3):
        await contact(db, tenant.id)
    made = await create(client, tenant, channel.id)
    now = datetime.now(UTC)
    async with db.tenant_session(tenant.id) as session:
        campaign = await service.get_campaign(session, tenant.id, UUID(made["id"]))
        tenant_row = await service.get_tenant(session, tenant.id)
        plan = await launching.plan(session, tenant_row, campaign, now, 0)
        assert await launching.run(session, plan) == 3
        assert await launching.run(session, plan) == 0
    assert len(await send_times(db, made["id"])) == 3


async def test_a_plain_insert_into_a_begun_round_fails_instead_of_doubling(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    """A round without messages is written without ``ON CONFLICT``; should one be begun
    after all, the unique key refuses the statement rather than write a second message."""
    channel = await make_channel(db, app, tenant.id, sim)
    for _ in range(2):
        await contact(db, tenant.id)
    made = await create(client, tenant, channel.id)
    async with db.tenant_session(tenant.id) as session:
        campaign = await service.get_campaign(session, tenant.id, UUID(made["id"]))
        tenant_row = await service.get_tenant(session, tenant.id)
        plan = await launching.plan(session, tenant_row, campaign, datetime.now(UTC), 0)
        repo = CampaignRepository(session)
        where = plan.parts.all()
        work_mem = await session.scalar(text("SHOW work_mem"))
        assert await repo.launch(plan.launch, where, skip_existing=False) == 2
        assert await session.scalar(text("SHOW work_mem")) == work_mem  # the launch's is undone
        with pytest.raises(IntegrityError, match="uq_messages_tenant_id_contact_id_campaign_id"):
            async with session.begin_nested():
                await repo.launch(plan.launch, where, skip_existing=False)
        assert await repo.launch(plan.launch, where, skip_existing=True) == 0
    assert len(await send_times(db, made["id"])) == 2


async def test_the_frequency_cap_skips_contacts_at_the_cap(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    busy = await contact(db, tenant.id)
    fresh = await contact(db, tenant.id)
    cap = {"max_messages": 1, "window_days": 7}
    first = await create(client, tenant, channel.id, audience={"contact_ids": [str(busy)]})
    await launch_at(db, tenant.id, first["id"], datetime.now(UTC))

    second = await create(client, tenant, channel.id, frequency_cap=cap)
    preflight = await client.get(f"/v1/campaigns/{second['id']}/preflight", headers=tenant.headers)
    assert preflight.json()["excluded"]["frequency_cap"] == 1
    assert preflight.json()["recipients"] == 1
    await launch_at(db, tenant.id, second["id"], datetime.now(UTC))
    assert set(await send_times(db, second["id"])) == {fresh}

    uncapped = await create(client, tenant, channel.id)
    await launch_at(db, tenant.id, uncapped["id"], datetime.now(UTC))
    assert set(await send_times(db, uncapped["id"])) == {busy, fresh}


async def test_ab_shares_hold_over_ten_thousand_contacts(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    await many_contacts(db, tenant.id, 10_000, "Europe/London")
    made = await create(
        client,
        tenant,
        channel.id,
        body=None,
        variants=[
            {"body": "A. Reply STOP to opt out", "share_percent": 50},
            {"body": "B. Reply STOP to opt out", "share_percent": 30},
            {"body": "C. Reply STOP to opt out", "share_percent": 20},
        ],
    )
    assert await launch_at(db, tenant.id, made["id"], datetime.now(UTC)) == 10_000
    async with db.system_session() as session:
        rows = await session.execute(
            select(Message.body, func.count())
            .where(Message.campaign_id == UUID(made["id"]))
            .group_by(Message.body)
        )
        shares = {body[0]: n / 10_000 for body, n in rows}
    for label, expected in (("A", 0.5), ("B", 0.3), ("C", 0.2)):
        assert abs(shares[label] - expected) < 0.03, shares


async def test_bodies_with_contact_fields_are_rendered_per_message(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    ada = await contact(db, tenant.id, first_name="Ada")
    grace = await contact(db, tenant.id, first_name="Grace")
    made = await create(
        client,
        tenant,
        channel.id,
        body="Hi {{ first_name }}, use {{ discount_code }} at {{ link }}",
        discount_code="SPRING",
        target_url="https://shop.example/sale",
    )
    await launch_at(db, tenant.id, made["id"], datetime.now(UTC))
    async with db.system_session() as session:
        rows = await session.execute(
            select(Message.contact_id, Message.body, Message.segments, Message.cost_micros).where(
                Message.campaign_id == UUID(made["id"])
            )
        )
        found = {row[0]: row[1:] for row in rows}
    assert found[ada][0].startswith("Hi Ada, use SPRING at https://shop.example/sale")
    assert found[grace][0].startswith("Hi Grace")
    assert "STOP" in found[ada][0]  # the marketing footer
    assert all(segments == 1 and cost and cost > 0 for _, segments, cost in found.values())


async def test_a_list_of_numbers_matches_and_creates_contacts(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    known = gb_phone()
    await contact(db, tenant.id, known)
    new = gb_phone()
    made = await create(
        client,
        tenant,
        channel.id,
        purpose=Purpose.transactional.value,
        body="Your table is ready.",
        audience={"phones": [known, new, new, "not a number"]},
    )
    assert made["audience"] == {
        "phones": [known, new],
        "invalid_numbers": 1,
        "duplicate_numbers": 1,
    }
    preflight = await client.get(f"/v1/campaigns/{made['id']}/preflight", headers=tenant.headers)
    excluded = preflight.json()["excluded"]
    assert excluded["invalid_number"] == 1 and excluded["duplicate_number"] == 1
    assert await launch_at(db, tenant.id, made["id"], datetime.now(UTC) + timedelta(0)) == 2
