"""Runs the automation launches through the campaign's own launch: recurring runs and the
rest of an A/B test's audience once the winner is known."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import aiohttp
import httpx
from fastapi import FastAPI
from sqlalchemy import update

from herald.campaign import automation
from herald.campaign.automation_rules import ranges_for_test_phase
from herald.campaign.models import CampaignStatus, CampaignVariant
from herald.campaign.repository import VariantRow
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.kit.models import utcnow
from tests.campaign.helpers import (
    add_clicks,
    create,
    many_contacts,
    messages_of,
    noon_zone,
    read_campaign_row,
    rounds_of,
    run_dispatch,
    set_columns,
)
from tests.conftest import MakeTenant, TenantFixture
from tests.message.dispatch_fixtures import make_channel
from tests.sim.server import SimServer


class TestRecurringRuns:
    async def test_due_runs_launch_with_their_run_number_until_max_runs(
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
        rule = {"type": "recurring", "every_days": 1, "at": "09:00", "max_runs": 2}
        now = utcnow()
        await set_columns(
            db,
            made["id"],
            schedule=rule,
            status=CampaignStatus.scheduled,
            next_run_at=now - timedelta(seconds=1),
        )

        assert await automation.run_recurring(db, now) == 1

        first = await read_campaign_row(db, made["id"])
        assert first.status is CampaignStatus.running and first.run_count == 1
        assert first.next_run_at is not None and now < first.next_run_at <= now + timedelta(days=1)
        assert await rounds_of(db, made["id"]) == {0: 3}
        assert await automation.run_recurring(db, now) == 0

        later = first.next_run_at + timedelta(minutes=1)
        assert await automation.run_recurring(db, later) == 1

        second = await read_campaign_row(db, made["id"])
        assert second.run_count == 2 and second.next_run_at is None
        assert await rounds_of(db, made["id"]) == {0: 3, 1: 3}
        assert await automation.run_recurring(db, later + timedelta(days=1)) == 0

    async def test_a_run_that_cannot_start_is_skipped_and_the_next_one_set(
        self,
        client: httpx.AsyncClient,
        db: Database,
        app: FastAPI,
        tenant: TenantFixture,
        sim: SimServer,
    ) -> None:
        channel = await make_channel(db, app, tenant.id, sim)
        await many_contacts(db, tenant.id, 2, noon_zone())
        made = await create(client, tenant, channel.id)
        rule = {"type": "recurring", "weekdays": ["mon", "fri"], "at": "10:00"}
        now = utcnow()
        await set_columns(
            db,
            made["id"],
            schedule=rule,
            status=CampaignStatus.scheduled,
            next_run_at=now - timedelta(seconds=1),
        )
        paused = await client.patch("/v1/tenant", json={"paused": True}, headers=tenant.headers)
        assert paused.status_code == 200

        assert await automation.run_recurring(db, now) == 0

        skipped = await read_campaign_row(db, made["id"])
        assert skipped.run_count == 0 and await rounds_of(db, made["id"]) == {}
        assert skipped.next_run_at is not None and skipped.next_run_at > now
        assert skipped.next_run_at.weekday() in (0, 4)

    async def test_a_run_sent_by_hand_gets_its_next_run(
        self,
        client: httpx.AsyncClient,
        db: Database,
        app: FastAPI,
        tenant: TenantFixture,
        sim: SimServer,
    ) -> None:
        channel = await make_channel(db, app, tenant.id, sim)
        await many_contacts(db, tenant.id, 1, noon_zone())
        made = await create(client, tenant, channel.id)
        sent = await client.post(f"/v1/campaigns/{made['id']}/send", headers=tenant.headers)
        assert sent.status_code == 202, sent.text
        await set_columns(db, made["id"], schedule={"type": "recurring", "cron": "0 8 * * *"})

        now = utcnow()
        assert await automation.run_recurring(db, now) == 0

        armed = await read_campaign_row(db, made["id"])
        assert armed.next_run_at is not None and armed.next_run_at.strftime("%H:%M") == "08:00"


class TestAbWinner:
    async def test_the_best_click_rate_wins_and_the_rest_of_the_audience_gets_it(
        self,
        client: httpx.AsyncClient,
        db: Database,
        app: FastAPI,
        tenant: TenantFixture,
        sim: SimServer,
        http: aiohttp.ClientSession,
    ) -> None:
        channel = await make_channel(db, app, tenant.id, sim, rate_per_second=500)
        await many_contacts(db, tenant.id, 200, noon_zone())
        variants = [
            {"body": "Offer A. Reply STOP to opt out", "share_percent": 50},
            {"body": "Offer B. Reply STOP to opt out", "share_percent": 50},
        ]
        made = await create(client, tenant, channel.id, body=None, variants=variants)
        a, b = (UUID(v["id"]) for v in made["variants"])
        await _test_phase(db, 20, [a, b])
        sent = await client.post(f"/v1/campaigns/{made['id']}/send", headers=tenant.headers)
        assert sent.status_code == 202, sent.text
        await run_dispatch(db, http, made["id"])
        tested = await messages_of(db, made["id"])
        assert 0 < len(tested) < 200 and {v for v, _ in tested.values()} == {a, b}
        await add_clicks(db, tenant.id, made["id"], tested, b)
        ab = {"test_share": 20, "metric": "clicks", "decide_after_minutes": 30}
        await set_columns(db, made["id"], ab=ab)

        now = utcnow()
        assert await automation.decide_winners(db, now) == 0  # not yet time

        assert await automation.decide_winners(db, now + timedelta(minutes=31)) == 1

        decided = await read_campaign_row(db, made["id"])
        assert decided.ab is not None and decided.ab["winner_variant_id"] == str(b)
        assert decided.ab["decided_at"] is not None
        everyone = await messages_of(db, made["id"])
        assert len(everyone) == 200
        assert {m: everyone[m] for m in tested} == tested
        assert {v for m, (v, _) in everyone.items() if m not in tested} == {b}
        assert {r for _, r in everyone.values()} == {0}
        assert await automation.decide_winners(db, now + timedelta(minutes=32)) == 0


async def _test_phase(db: Database, share: int, variants: list[UUID]) -> None:
    """The test phase as the launch writes it: each variant's range scaled into the share."""
    async with db.system_session() as session:
        for variant_id in variants:
            await session.execute(
                update(CampaignVariant)
                .where(CampaignVariant.id == variant_id)
                .values(share_percent=share // len(variants))
            )


def test_the_winner_is_the_best_rate_and_a_tie_goes_to_the_first() -> None:
    a, b, c = new_id(), new_id(), new_id()
    assert automation.pick_winner([(a, 10, 1), (b, 4, 1), (c, 0, 0)]) == b
    assert automation.pick_winner([(a, 10, 2), (b, 5, 1)]) == a
    assert automation.pick_winner([(a, 0, 0), (b, 0, 0)]) == a


def test_test_phase_ranges_scale_into_the_share() -> None:
    rows = [
        VariantRow(new_id(), 0, 50, "A", None, None, 1),
        VariantRow(new_id(), 50, 100, "B", None, None, 1),
    ]
    scaled = ranges_for_test_phase(rows, 20)
    assert [(v.low, v.high) for v in scaled] == [(0, 10), (10, 20)]
