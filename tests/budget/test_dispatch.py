"""Budgets in the dispatch engine, against the simulator over real HTTP: a run that exhausts
its budget sends what fits and holds the rest (queued, untried, nothing lost) until the reset
or a raise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import httpx
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import update

from herald.budget.models import Budget
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.dispatch import DispatchPolicy, dispatch_once
from herald.message.models import Message, MessageStatus
from herald.wallet.models import BillingMode
from herald.wallet.service import credit, get_wallet, set_billing_mode
from tests.conftest import MakeTenant, TenantFixture
from tests.message.dispatch_fixtures import events_of, make_channel, messages_of, queue
from tests.sim.server import SimServer, sim, sim_server

__all__ = ["sim", "sim_server"]

PRICE = 5_000
"""The simulator's price per SMS segment (migration 0013)."""
POLICY = DispatchPolicy(idle_seconds=0.01)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _next_utc_midnight(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


async def _limit(client: httpx.AsyncClient, tenant: TenantFixture, daily: int | None) -> None:
    body = {"daily_limit": daily, "monthly_limit": None}
    response = await client.put("/v1/budget", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text


async def test_exhaustion_mid_run_sends_what_fits_and_holds_the_rest_until_raised(
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    await _limit(client, tenant, 2 * PRICE + PRICE // 2)
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    ids = await queue(db, channel, 5)

    await dispatch_once(db, http, POLICY)

    messages = await messages_of(db, ids)
    sent = [m for m in messages if m.status is MessageStatus.sent]
    held = [m for m in messages if m.status is MessageStatus.queued]
    assert len(sent) == 2 and len(held) == 3
    midnight = _next_utc_midnight(utcnow())
    assert all(m.error_code == "daily_budget_reached" and m.attempts == 0 for m in held)
    assert {m.next_attempt_at for m in held} == {midnight}
    budget = (await client.get("/v1/budget", headers=tenant.headers)).json()
    assert budget["status"] == "daily_budget_reached" and budget["daily_spent"] == 2 * PRICE
    assert budget["held_until"] == midnight.isoformat().replace("+00:00", "Z")
    async with db.system_session() as session:
        assert (await get_wallet(session, tenant.id)).lifetime_spent == 2 * PRICE

    await dispatch_once(db, http, POLICY)
    assert [m.status for m in await messages_of(db, ids)].count(MessageStatus.sent) == 2

    await _limit(client, tenant, 10 * PRICE)
    await dispatch_once(db, http, POLICY)

    assert {m.status for m in await messages_of(db, ids)} == {MessageStatus.sent}
    assert await events_of(db, ids) == {"sent": 5}
    budget = (await client.get("/v1/budget", headers=tenant.headers)).json()
    assert budget["status"] == "ok" and budget["daily_spent"] == 5 * PRICE


async def test_held_messages_go_out_once_the_day_has_reset(
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    await _limit(client, tenant, PRICE)
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    ids = await queue(db, channel, 3)
    await dispatch_once(db, http, POLICY)
    assert [m.status for m in await messages_of(db, ids)].count(MessageStatus.queued) == 2

    # The clock passes the tenant's midnight: yesterday's count and the held messages are due.
    now = utcnow()
    async with db.system_session() as session:
        await session.execute(
            update(Budget)
            .where(Budget.tenant_id == tenant.id)
            .values(day_start=Budget.day_start - timedelta(days=1), reached_until=now)
        )
        await session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.status == MessageStatus.queued)
            .values(next_attempt_at=now)
        )
    await dispatch_once(db, http, POLICY)

    statuses = [m.status for m in await messages_of(db, ids)]
    assert statuses.count(MessageStatus.sent) == 2 and statuses.count(MessageStatus.queued) == 1
    budget = (await client.get("/v1/budget", headers=tenant.headers)).json()
    assert budget["daily_spent"] == PRICE and budget["status"] == "daily_budget_reached"


async def test_one_tenant_s_budget_does_not_hold_another_s_sends(
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    frugal, free = await make_tenant("Frugal"), await make_tenant("Free")
    await _limit(client, frugal, 0)
    mine = await queue(db, await make_channel(db, app, frugal.id, sim, rate_per_second=100), 2)
    theirs = await queue(db, await make_channel(db, app, free.id, sim, rate_per_second=100), 2)

    await dispatch_once(db, http, POLICY)

    assert {m.status for m in await messages_of(db, mine)} == {MessageStatus.queued}
    assert {m.status for m in await messages_of(db, theirs)} == {MessageStatus.sent}
    other = (await client.get("/v1/budget", headers=free.headers)).json()
    assert other["status"] == "ok" and other["daily_spent"] == 0


async def test_sends_the_wallet_refuses_give_their_budget_back(
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    async with db.system_session() as session:
        await set_billing_mode(session, tenant.id, BillingMode.prepaid)
        await credit(session, tenant.id, PRICE, reason="test", actor="test")
    await _limit(client, tenant, 10 * PRICE)
    ids = await queue(db, await make_channel(db, app, tenant.id, sim, rate_per_second=100), 3)

    await dispatch_once(db, http, POLICY)

    messages = await messages_of(db, ids)
    assert [m.status for m in messages].count(MessageStatus.sent) == 1
    assert {m.error_code for m in messages if m.status is MessageStatus.queued} == {
        "insufficient_credits"
    }
    budget = (await client.get("/v1/budget", headers=tenant.headers)).json()
    assert budget["daily_spent"] == PRICE and budget["status"] == "ok"
