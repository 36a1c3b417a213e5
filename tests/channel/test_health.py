"""Warm-up caps, the circuit breaker the dispatch drives, and the delete refusal."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import httpx

from herald.channel import service
from herald.channel.models import Channel, ChannelStatus
from herald.channel.repository import Breaker
from herald.kit.database import Database
from herald.message.models import Message
from tests.channel.helpers import create, sms_body
from tests.conftest import TenantFixture

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FAILURES_TO_OPEN = Breaker().failures_to_open
PROBE_BACKOFF_SECONDS = Breaker().probe_backoff_seconds


def warm(initial: int, per_day: int | None) -> Channel:
    return Channel(
        warmup_started_on=date(2026, 12, 1), warmup_initial=initial, rate_per_day=per_day
    )


def test_warmup_doubles_daily_up_to_the_daily_cap() -> None:
    channel = warm(50, 1000)
    start = date(2026, 12, 1)

    caps = [service.daily_cap(channel, start + timedelta(days=d)) for d in range(-1, 7)]

    assert caps == [50, 50, 100, 200, 400, 800, 1000, 1000]


def test_caps_without_warmup_or_ceiling() -> None:
    assert service.daily_cap(Channel(rate_per_day=300, warmup_initial=50), date.today()) == 300
    assert service.daily_cap(Channel(rate_per_day=None, warmup_initial=50), date.today()) is None
    unlimited = warm(10, None)
    assert service.daily_cap(unlimited, date(2026, 12, 4)) == 80
    assert service.daily_cap(unlimited, date(2028, 1, 1)) is None


async def test_warmup_cap_is_shown(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    today = datetime.now(UTC).date()
    body = sms_body(warmup_started_on=str(today - timedelta(days=2)), rate_per_day=10_000)
    channel = await create(client, tenant.headers, body)

    assert channel["daily_cap"] == 200


async def _channel(db: Database, tenant: TenantFixture, client: httpx.AsyncClient) -> UUID:
    return UUID((await create(client, tenant.headers, sms_body()))["id"])


async def _state(db: Database, tenant_id: UUID, channel_id: UUID) -> Channel:
    async with db.tenant_session(tenant_id) as session:
        return await service.get_channel(session, tenant_id, channel_id)


async def _fail(db: Database, channel_id: UUID, at: datetime, reason: str = "HTTP 503") -> bool:
    async with db.system_session() as session:
        return await service.record_failure(session, channel_id, at, reason)


async def test_breaker_opens_after_consecutive_failures_and_a_probe_closes_it(
    db: Database, tenant: TenantFixture, client: httpx.AsyncClient
) -> None:
    channel_id = await _channel(db, tenant, client)

    opened = [await _fail(db, channel_id, NOW, f"HTTP 503 #{i}") for i in range(FAILURES_TO_OPEN)]

    assert opened == [False] * (FAILURES_TO_OPEN - 1) + [True]
    failing = await _state(db, tenant.id, channel_id)
    assert (failing.status, failing.status_reason) == (ChannelStatus.failing, "HTTP 503 #4")
    assert failing.probe_after == NOW + timedelta(seconds=PROBE_BACKOFF_SECONDS)
    assert not service.may_probe(failing, NOW)
    assert service.may_probe(failing, failing.probe_after)

    assert not await _fail(db, channel_id, NOW, "probe failed")
    pushed = await _state(db, tenant.id, channel_id)
    assert pushed.probe_after == NOW + timedelta(seconds=2 * PROBE_BACKOFF_SECONDS)
    assert pushed.status_reason == "probe failed"

    async with db.system_session() as session:
        await service.record_success(session, channel_id, NOW + timedelta(minutes=2))
    closed = await _state(db, tenant.id, channel_id)
    assert (closed.status, closed.status_reason, closed.probe_after) == (
        ChannelStatus.active,
        None,
        None,
    )
    assert closed.consecutive_failures == 0


async def test_a_success_resets_the_count(
    db: Database, tenant: TenantFixture, client: httpx.AsyncClient
) -> None:
    channel_id = await _channel(db, tenant, client)
    for _ in range(FAILURES_TO_OPEN - 1):
        await _fail(db, channel_id, NOW)
    async with db.system_session() as session:
        await service.record_success(session, channel_id, NOW)

    assert not await _fail(db, channel_id, NOW)
    state = await _state(db, tenant.id, channel_id)
    assert (state.status, state.consecutive_failures) == (ChannelStatus.active, 1)
    assert state.last_success_at == NOW


async def test_concurrent_failures_open_the_breaker_once(
    db: Database, tenant: TenantFixture, client: httpx.AsyncClient
) -> None:
    channel_id = await _channel(db, tenant, client)
    for _ in range(FAILURES_TO_OPEN - 2):
        await _fail(db, channel_id, NOW)

    both = await asyncio.gather(_fail(db, channel_id, NOW), _fail(db, channel_id, NOW))

    assert sorted(both) == [False, True]
    state = await _state(db, tenant.id, channel_id)
    assert (state.status, state.consecutive_failures) == (ChannelStatus.failing, FAILURES_TO_OPEN)


async def test_paused_channel_counts_failures_but_stays_paused(
    db: Database, tenant: TenantFixture, client: httpx.AsyncClient
) -> None:
    channel_id = await _channel(db, tenant, client)
    await client.post(f"/v1/channels/{channel_id}/pause", headers=tenant.headers)

    opened = [await _fail(db, channel_id, NOW) for _ in range(FAILURES_TO_OPEN + 1)]

    state = await _state(db, tenant.id, channel_id)
    assert not any(opened)
    assert (state.status, state.status_reason) == (ChannelStatus.paused, "paused by a person")


async def test_one_worker_claims_the_probe(
    db: Database, tenant: TenantFixture, client: httpx.AsyncClient
) -> None:
    channel_id = await _channel(db, tenant, client)
    for _ in range(FAILURES_TO_OPEN):
        await _fail(db, channel_id, NOW)
    later = NOW + timedelta(hours=1)

    async def claim() -> bool:
        async with db.system_session() as session:
            return await service.claim_probe(session, channel_id, later)

    assert sorted(await asyncio.gather(claim(), claim())) == [False, True]
    resumed = await client.post(f"/v1/channels/{channel_id}/resume", headers=tenant.headers)
    assert (resumed.json()["status"], resumed.json()["consecutive_failures"]) == ("active", 0)


async def test_a_channel_with_messages_cannot_be_deleted(
    db: Database, tenant: TenantFixture, client: httpx.AsyncClient
) -> None:
    channel_id = await _channel(db, tenant, client)
    async with db.tenant_session(tenant.id) as session:
        session.add(
            Message(
                tenant_id=tenant.id,
                channel_id=channel_id,
                to_address="+15550199",
                body="hi",
                idempotency_key=None,
            )
        )

    response = await client.delete(f"/v1/channels/{channel_id}", headers=tenant.headers)

    assert response.status_code == 409
    assert "pause it instead" in response.json()["detail"]
    assert (
        await client.get(f"/v1/channels/{channel_id}", headers=tenant.headers)
    ).status_code == 200
