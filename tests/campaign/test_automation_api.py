"""Recurring schedules, A/B tests with an automatic winner and drip steps, set through the
campaigns API and carried out by the sweeps; and the sweeps' row locks."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select, update

from herald.campaign import automation, service
from herald.campaign.automation_drip import run_drips
from herald.campaign.models import CampaignStatus
from herald.channel.models import Channel
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.models import Message
from tests.campaign.helpers import (
    act,
    add_clicks,
    create,
    many_contacts,
    messages_of,
    noon_zone,
    read_campaign_row,
    rounds_of,
    run_dispatch,
)
from tests.conftest import MakeTenant, TenantFixture
from tests.message.dispatch_fixtures import make_channel
from tests.sim.server import SimServer

DAILY = {"type": "recurring", "every_days": 1, "at": "09:00"}
TWO = [
    {"body": "Offer A. Reply STOP to opt out", "share_percent": 50},
    {"body": "Offer B. Reply STOP to opt out", "share_percent": 50},
]
AB = {"test_share": 20, "metric": "clicks", "decide_after_minutes": 30}
STEPS = [
    {"body": "Still thinking? Reply STOP to opt out", "delay_minutes": 60},
    {"body": "Last day. Reply STOP to opt out", "delay_minutes": 1440},
]


@pytest_asyncio.fixture
async def channel(db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer) -> Channel:
    """The tenant's SMS channel on the simulator."""
    return await make_channel(db, app, tenant.id, sim)


async def _due_now(db: Database, campaign_id: str) -> None:
    async with db.system_session() as session:
        await session.execute(
            update(Message)
            .where(Message.campaign_id == UUID(campaign_id), Message.status == "queued")
            .values(next_attempt_at=utcnow())
        )


async def _messages(db: Database, campaign_id: str) -> list[Message]:
    async with db.system_session() as session:
        found = await session.scalars(
            select(Message).where(Message.campaign_id == UUID(campaign_id))
        )
        return list(found)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


class TestRecurringSchedule:
    async def test_each_run_launches_its_round_once(
        self,
        client: httpx.AsyncClient,
        db: Database,
        app: FastAPI,
        make_tenant: MakeTenant,
        sim: SimServer,
    ) -> None:
        shop = await make_tenant(timezone="Europe/Paris")
        channel = await make_channel(db, app, shop.id, sim)
        await many_contacts(db, shop.id, 3, noon_zone())
        made = await create(client, shop, channel.id)
        before = utcnow()

        scheduled = await act(client, shop, made["id"], "schedule", schedule=DAILY)

        assert scheduled["status"] == "scheduled"
        assert scheduled["schedule"]["type"] == "recurring"
        first = _instant(scheduled["next_run_at"])
        assert before < first <= before + timedelta(days=1)
        assert first.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M") == "09:00"

        for at in (first - timedelta(minutes=1), first + timedelta(minutes=1)):
            assert (await service.sweep(db, at)).launched == 0  # the recurring sweep's own
        assert await automation.run_recurring(db, first - timedelta(minutes=1)) == 0
        assert await automation.run_recurring(db, first + timedelta(minutes=1)) == 1
        assert await automation.run_recurring(db, first + timedelta(minutes=2)) == 0
        assert await rounds_of(db, made["id"]) == {0: 3}

        after_one = await read_campaign_row(db, made["id"])
        assert after_one.status is CampaignStatus.running and after_one.run_count == 1
        second = after_one.next_run_at
        assert second is not None and second - first == timedelta(days=1)

        assert await automation.run_recurring(db, second + timedelta(minutes=1)) == 1
        assert await automation.run_recurring(db, second + timedelta(minutes=1)) == 0
        assert (await service.sweep(db, second + timedelta(minutes=1))).launched == 0
        assert await rounds_of(db, made["id"]) == {0: 3, 1: 3}

        read = await client.get(f"/v1/campaigns/{made['id']}", headers=shop.headers)
        assert read.json()["run_count"] == 2
        assert _instant(read.json()["next_run_at"]) == second + timedelta(days=1)

    async def test_a_campaign_created_with_a_rule_is_scheduled_in_the_tenant_zone(
        self,
        client: httpx.AsyncClient,
        db: Database,
        app: FastAPI,
        make_tenant: MakeTenant,
        sim: SimServer,
    ) -> None:
        shop = await make_tenant(timezone="America/New_York")
        channel = await make_channel(db, app, shop.id, sim)
        rule = {"type": "recurring", "weekdays": ["mon", "thu"], "at": "18:30"}

        made = await create(client, shop, channel.id, schedule=rule)

        assert made["status"] == "scheduled"
        local = _instant(made["next_run_at"]).astimezone(ZoneInfo("America/New_York"))
        assert local.strftime("%a %H:%M") in ("Mon 18:30", "Thu 18:30")

    @pytest.mark.parametrize(
        ("schedule", "fragment"),
        [
            ({"type": "recurring", "every_days": 2}, "need 'at'"),
            ({"type": "recurring", "every_days": 1, "cron": "0 9 * * *"}, "exactly one"),
            ({"type": "recurring", "cron": "0 9 * *"}, "five fields"),
            ({"type": "recurring", "cron": "0 9 31 2 *"}, "never occurs"),
            ({"type": "weekly", "at": "09:00"}, "type"),
        ],
    )
    async def test_a_bad_rule_is_refused_with_what_to_fix(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        channel: Channel,
        schedule: dict[str, Any],
        fragment: str,
    ) -> None:
        made = await create(client, tenant, channel.id)

        refused = await act(client, tenant, made["id"], "schedule", 422, schedule=schedule)

        assert fragment in str(refused)
        row = await read_campaign_row(db, made["id"])
        assert row.status is CampaignStatus.draft and row.next_run_at is None

    async def test_another_tenant_and_a_viewer_cannot_schedule_it(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        channel: Channel,
        other_tenant: TenantFixture,
    ) -> None:
        made = await create(client, tenant, channel.id)
        url = f"/v1/campaigns/{made['id']}/schedule"

        stranger = await client.post(url, json={"schedule": DAILY}, headers=other_tenant.headers)
        viewer = await tenant.key_for(Role.viewer)
        looker = await client.post(url, json={"schedule": DAILY}, headers=viewer)

        assert stranger.status_code == 404
        assert looker.status_code == 403
        row = await read_campaign_row(db, made["id"])
        assert row.status is CampaignStatus.draft and row.schedule is None


class TestShapes:
    async def test_ab_and_drip_settings_are_read_back(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        channel: Channel,
    ) -> None:

        tested = await create(client, tenant, channel.id, body=None, variants=TWO, ab=AB)
        drip = await create(client, tenant, channel.id, mode="drip", steps=STEPS)

        assert tested["mode"] == "broadcast" and tested["steps"] == []
        assert tested["ab"] == {**AB, "winner_variant_id": None, "decided_at": None}
        assert drip["mode"] == "drip" and drip["ab"] is None
        assert [(s["position"], s["delay_minutes"], s["body"]) for s in drip["steps"]] == [
            (0, 60, STEPS[0]["body"]),
            (1, 1440, STEPS[1]["body"]),
        ]
        copied = await act(client, tenant, drip["id"], "duplicate", 201)
        assert [s["delay_minutes"] for s in copied["steps"]] == [60, 1440]

    @pytest.mark.parametrize(
        ("body", "fragment"),
        [
            ({"ab": AB}, "at least two 'variants'"),
            ({"steps": STEPS}, "set 'mode' to 'drip'"),
            ({"mode": "drip"}, "needs 'steps'"),
            ({"mode": "drip", "steps": STEPS, "body": None, "variants": TWO}, "no 'variants'"),
            ({"mode": "drip", "steps": STEPS, "schedule": DAILY}, "runs once"),
            ({"mode": "drip", "steps": [{"delay_minutes": 5}]}, "a step needs one of"),
            ({"body": None, "variants": TWO, "ab": {**AB, "test_share": 100}}, "test_share"),
            ({"body": None, "variants": TWO, "ab": {**AB, "decided_at": None}}, "Extra inputs"),
        ],
    )
    async def test_a_bad_combination_is_a_clear_422(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        channel: Channel,
        body: dict[str, Any],
        fragment: str,
    ) -> None:

        refused = await create(client, tenant, channel.id, expect=422, **body)

        assert fragment in str(refused)

    async def test_a_change_is_checked_against_what_is_stored(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        channel: Channel,
        other_tenant: TenantFixture,
    ) -> None:
        made = await create(client, tenant, channel.id)
        url = f"/v1/campaigns/{made['id']}"

        one_variant = await client.patch(url, json={"ab": AB}, headers=tenant.headers)
        to_drip = await client.patch(
            url, json={"mode": "drip", "steps": STEPS}, headers=tenant.headers
        )
        then_ab = await client.patch(url, json={"ab": AB}, headers=tenant.headers)
        back = await client.patch(
            url, json={"mode": "broadcast", "steps": []}, headers=tenant.headers
        )
        stranger = await client.patch(url, json={"ab": None}, headers=other_tenant.headers)
        viewer = await client.patch(
            url, json={"mode": "drip"}, headers=await tenant.key_for(Role.viewer)
        )

        assert one_variant.status_code == 422, one_variant.text
        assert "at least two 'variants'" in one_variant.json()["detail"]
        assert to_drip.status_code == 200, to_drip.text
        assert to_drip.json()["mode"] == "drip" and len(to_drip.json()["steps"]) == 2
        assert then_ab.status_code == 422 and "no 'variants'" in then_ab.json()["detail"]
        assert back.status_code == 200 and back.json()["steps"] == []
        assert (stranger.status_code, viewer.status_code) == (404, 403)
        row = await read_campaign_row(db, made["id"])
        assert row.mode.value == "broadcast" and row.ab is None


class TestDripThroughTheApi:
    async def test_steps_set_by_the_api_follow_their_delays(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        channel: Channel,
    ) -> None:
        await many_contacts(db, tenant.id, 3, noon_zone())
        made = await create(client, tenant, channel.id, mode="drip", steps=STEPS)
        await act(client, tenant, made["id"], "send", 202)
        now = utcnow()

        assert await run_drips(db, now) == 0  # the first step waits its hour
        assert await run_drips(db, now + timedelta(minutes=61)) == 3
        assert await run_drips(db, now + timedelta(minutes=62)) == 0
        assert await run_drips(db, now + timedelta(minutes=61 + 1441)) == 3

        assert await rounds_of(db, made["id"]) == {0: 3, 1: 3, 2: 3}
        bodies = {m.campaign_round: m.body or "" for m in await _messages(db, made["id"])}
        assert bodies[1].startswith("Still thinking?") and bodies[2].startswith("Last day.")


class TestAbThroughTheApi:
    async def test_the_test_share_goes_first_and_the_winner_to_the_rest(
        self,
        client: httpx.AsyncClient,
        db: Database,
        app: FastAPI,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sim: SimServer,
        http: aiohttp.ClientSession,
    ) -> None:
        audience = 600
        channel = await make_channel(db, app, tenant.id, sim, rate_per_second=1000)
        await many_contacts(db, tenant.id, audience, noon_zone())
        made = await create(client, tenant, channel.id, body=None, variants=TWO, ab=AB)
        a, b = (UUID(v["id"]) for v in made["variants"])

        sent = await act(client, tenant, made["id"], "send", 202)
        await run_dispatch(db, http, made["id"])

        tested = await messages_of(db, made["id"])
        assert sent["messages"] == len(tested)
        by_variant = {v: sum(1 for w, _ in tested.values() if w == v) for v in (a, b)}
        assert 0.12 * audience < len(tested) < 0.28 * audience  # 20 % of a fixed hash
        assert all(0.3 * len(tested) < n < 0.7 * len(tested) for n in by_variant.values())
        await add_clicks(db, tenant.id, made["id"], tested, b)
        now = utcnow()
        assert (await service.sweep(db, now)).completed == 0  # the rest is still to come
        waiting = await client.get(f"/v1/campaigns/{made['id']}", headers=tenant.headers)
        assert waiting.json()["status"] == "running"
        assert await automation.decide_winners(db, now) == 0  # not yet time

        assert await automation.decide_winners(db, now + timedelta(minutes=31)) == 1

        everyone = await messages_of(db, made["id"])
        assert len(everyone) == audience
        assert {m: everyone[m] for m in tested} == tested
        assert {v for m, (v, _) in everyone.items() if m not in tested} == {b}
        assert {r for _, r in everyone.values()} == {0}
        assert await automation.decide_winners(db, now + timedelta(minutes=32)) == 0
        await _due_now(db, made["id"])  # the rest was queued for the decision's "now"
        await run_dispatch(db, http, made["id"])
        read = await client.get(f"/v1/campaigns/{made['id']}", headers=tenant.headers)
        assert read.json()["status"] == "completed"
        assert read.json()["ab"]["winner_variant_id"] == str(b)
        assert read.json()["stats"]["total"] == audience
        report = await client.get(f"/v1/campaigns/{made['id']}/report", headers=tenant.headers)
        figures = {v["label"]: v["messages"] for v in report.json()["variants"]}
        assert figures == {"A": by_variant[a], "B": audience - by_variant[a]}
        hidden = await client.get(f"/v1/campaigns/{made['id']}", headers=other_tenant.headers)
        assert hidden.status_code == 404


class TestSweepLocks:
    async def test_two_ticks_at_once_launch_a_scheduled_campaign_once(
        self,
        client: httpx.AsyncClient,
        db: Database,
        app: FastAPI,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sim: SimServer,
    ) -> None:
        made = []
        for shop in (tenant, other_tenant):
            channel = await make_channel(db, app, shop.id, sim)
            await many_contacts(db, shop.id, 5, noon_zone())
            campaign = await create(client, shop, channel.id)
            at = {"type": "at", "at": (utcnow() + timedelta(minutes=5)).isoformat()}
            await act(client, shop, campaign["id"], "schedule", schedule=at)
            made.append(campaign["id"])
        due = utcnow() + timedelta(minutes=6)

        ticks = await asyncio.gather(service.sweep(db, due), service.sweep(db, due))

        assert sum(t.launched for t in ticks) == 2 and sum(t.refused for t in ticks) == 0
        for campaign_id in made:
            row = await read_campaign_row(db, campaign_id)
            assert row.status is CampaignStatus.running and row.run_count == 1
            assert await rounds_of(db, campaign_id) == {0: 5}

    async def test_two_recurring_sweeps_at_once_launch_a_run_once(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        channel: Channel,
    ) -> None:
        await many_contacts(db, tenant.id, 4, noon_zone())
        made = await create(client, tenant, channel.id, schedule=DAILY)
        due = _instant(made["next_run_at"]) + timedelta(minutes=1)

        runs = await asyncio.gather(
            automation.run_recurring(db, due), automation.run_recurring(db, due)
        )

        assert sorted(runs) == [0, 1]
        row = await read_campaign_row(db, made["id"])
        assert row.run_count == 1 and await rounds_of(db, made["id"]) == {0: 4}

    async def test_a_campaign_locked_elsewhere_is_passed_by_then_launched(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        channel: Channel,
    ) -> None:
        await many_contacts(db, tenant.id, 2, noon_zone())
        made = await create(client, tenant, channel.id)
        at = {"type": "at", "at": (utcnow() + timedelta(minutes=1)).isoformat()}
        await act(client, tenant, made["id"], "schedule", schedule=at)
        due = utcnow() + timedelta(minutes=2)

        async with db.tenant_session(tenant.id) as holder:
            held = await service.claim_campaign(holder, tenant.id, UUID(made["id"]))
            assert held is not None
            passed = await service.sweep(db, due)
        launched = await service.sweep(db, due)

        assert passed.launched == 0 and launched.launched == 1
        assert await rounds_of(db, made["id"]) == {0: 2}
