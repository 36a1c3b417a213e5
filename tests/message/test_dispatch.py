"""The dispatch engine, one batch at a time, against the simulator over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from uuid import UUID

import aiohttp
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select, update

from herald.channel.models import Channel, ChannelStatus
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.dispatch import (
    DispatchPolicy,
    backoff,
    claim_batch,
    dispatch_once,
    reconcile,
    send_time,
)
from herald.message.dispatch_models import ChannelSendWindow, WindowSpan
from herald.message.dispatch_repository import DispatchRepository, Outcome
from herald.message.models import Message, MessageStatus
from herald.sim.state import SenderControl
from herald.wallet.models import BillingMode, WalletTransaction
from herald.wallet.service import credit, get_wallet, set_billing_mode
from tests.conftest import MakeTenant, TenantFixture
from tests.message.dispatch_fixtures import (
    events_of,
    make_channel,
    make_contact,
    messages_of,
    queue,
    reload,
)
from tests.sim.server import SimServer, sim, sim_server

__all__ = ["sim", "sim_server"]

FAST = DispatchPolicy(backoff_base=0.01, backoff_cap=0.05, probe_interval=0.05, idle_seconds=0.01)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def drain(
    db: Database, http: aiohttp.ClientSession, policy: DispatchPolicy, rounds: int
) -> None:
    """Run ``rounds`` batches, letting back-offs and windows pass between them."""
    for _ in range(rounds):
        await dispatch_once(db, http, policy)
        await asyncio.sleep(0.06)


async def test_queued_messages_are_sent_once_with_provider_ids_and_events(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    ids = await queue(db, channel, 3)

    await dispatch_once(db, http, FAST)

    sent = await messages_of(db, ids)
    assert {m.status for m in sent} == {MessageStatus.sent}
    assert all(m.provider_message_id and m.sent_at and m.attempts == 1 for m in sent)
    at_provider = [
        m.reference for m in sim.sim.state.find(to=None, sender=channel.sender, provider=None)
    ]
    assert sorted(at_provider) == sorted(str(i) for i in ids)
    assert {m.provider_message_id for m in sent} == {
        m.provider_message_id
        for m in sim.sim.state.find(to=None, sender=channel.sender, provider=None)
    }
    assert await events_of(db, ids) == {"sent": 3}
    assert (await reload(db, channel)).last_success_at is not None


async def test_a_channel_sends_no_more_than_its_cap_per_second(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=3)
    ids = await queue(db, channel, 10)

    await dispatch_once(db, http, FAST)

    statuses = [m.status for m in await messages_of(db, ids)]
    assert statuses.count(MessageStatus.sent) == 3
    assert statuses.count(MessageStatus.queued) == 7


async def test_transient_failures_retry_with_back_off_then_fail_with_the_reason(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    sim.sim.state.senders[channel.sender] = SenderControl(fail_transient_share=1.0)
    [message_id] = await queue(db, channel, 1)
    policy = DispatchPolicy(
        backoff_base=0.01, backoff_cap=0.05, max_attempts=3, breaker_threshold=100
    )

    before = utcnow()
    await dispatch_once(db, http, policy)
    [retrying] = await messages_of(db, [message_id])
    assert retrying.status is MessageStatus.queued
    assert retrying.attempts == 1 and retrying.error_code == "temporary_failure"
    assert retrying.next_attempt_at > before

    await drain(db, http, policy, 4)
    [failed] = await messages_of(db, [message_id])
    assert failed.status is MessageStatus.failed
    assert failed.attempts == 3
    assert failed.error_reason is not None and failed.error_reason.startswith("gave up after 3")
    assert await events_of(db, [message_id]) == {"failed": 1}
    assert not list(sim.sim.state.find(to=None, sender=channel.sender, provider=None))


async def test_a_rate_limited_send_is_retried_and_then_sent(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    sim.sim.state.senders[channel.sender] = SenderControl(rate_limit_per_second=1)
    ids = await queue(db, channel, 3)

    await drain(db, http, FAST, 3)
    for _ in range(30):
        if {m.status for m in await messages_of(db, ids)} == {MessageStatus.sent}:
            break
        await drain(db, http, FAST, 1)
        await asyncio.sleep(0.3)

    done = await messages_of(db, ids)
    assert {m.status for m in done} == {MessageStatus.sent}
    assert max(m.attempts for m in done) > 1
    references = [
        m.reference for m in sim.sim.state.find(to=None, sender=channel.sender, provider=None)
    ]
    assert sorted(references) == sorted(str(i) for i in ids)


async def test_an_opt_out_fails_the_message_without_retry_and_opts_the_contact_out(
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    contact_id = await make_contact(client, tenant, "+14155550123")
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    sim.sim.state.senders[channel.sender] = SenderControl(opt_out_share=1.0)
    [message_id] = await queue(db, channel, 1, contact_id=contact_id, to="+14155550123")

    await drain(db, http, FAST, 2)

    [message] = await messages_of(db, [message_id])
    assert message.status is MessageStatus.failed
    assert message.attempts == 1
    assert message.error_code == "opted_out"
    contact = await client.get(f"/v1/contacts/{contact_id}", headers=tenant.headers)
    assert contact.json()["sms_status"] == "opted_out"
    assert (await reload(db, channel)).consecutive_failures == 0


async def test_repeated_failures_open_the_circuit_and_a_probe_closes_it(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    sim.sim.state.senders[channel.sender] = SenderControl(down=True)
    ids = await queue(db, channel, 3)
    policy = DispatchPolicy(
        backoff_base=0.01, backoff_cap=0.02, breaker_threshold=3, probe_interval=0.3
    )

    await dispatch_once(db, http, policy)
    opened = await reload(db, channel)
    assert opened.status is ChannelStatus.failing
    assert opened.status_reason and opened.probe_after is not None

    await asyncio.sleep(0.05)
    await dispatch_once(db, http, policy)  # the circuit is open: nothing is sent
    assert {m.attempts for m in await messages_of(db, ids)} == {1}

    sim.sim.state.senders.pop(channel.sender)
    await asyncio.sleep(0.35)
    await dispatch_once(db, http, policy)  # one probe
    after_probe = await messages_of(db, ids)
    assert [m.status for m in after_probe].count(MessageStatus.sent) == 1
    closed = await reload(db, channel)
    assert closed.status is ChannelStatus.active and closed.consecutive_failures == 0

    await asyncio.sleep(0.35)
    await dispatch_once(db, http, policy)
    assert {m.status for m in await messages_of(db, ids)} == {MessageStatus.sent}


async def test_a_paused_channel_sends_nothing(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await make_channel(
        db, app, tenant.id, sim, rate_per_second=100, status=ChannelStatus.paused
    )
    ids = await queue(db, channel, 2)

    await dispatch_once(db, http, FAST)

    assert {m.status for m in await messages_of(db, ids)} == {MessageStatus.queued}


async def test_outcomes_only_change_the_rows_of_their_own_tenant(
    db: Database, app: FastAPI, make_tenant: MakeTenant, sim: SimServer
) -> None:
    first, second = await make_tenant("A"), await make_tenant("B")
    channel = await make_channel(db, app, second.id, sim)
    [theirs] = await queue(db, channel, 1)
    async with db.system_session() as session:
        await session.execute(
            update(Message).where(Message.id == theirs).values(status=MessageStatus.sending)
        )

    async with db.system_session() as session:
        await DispatchRepository(session).record(
            [Outcome(theirs, first.id, "sent", provider_message_id="forged")], utcnow()
        )
    [untouched] = await messages_of(db, [theirs])
    assert untouched.status is MessageStatus.sending and untouched.provider_message_id is None

    async with db.system_session() as session:
        await DispatchRepository(session).record(
            [Outcome(theirs, second.id, "sent", provider_message_id="real")], utcnow()
        )
    [recorded] = await messages_of(db, [theirs])
    assert recorded.status is MessageStatus.sent and recorded.provider_message_id == "real"


async def test_messages_stuck_sending_become_unknown_never_resent(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    stuck, fresh = await queue(db, channel, 2)
    now = utcnow()
    async with db.system_session() as session:
        for message_id, since in ((stuck, now - timedelta(minutes=5)), (fresh, now)):
            await session.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(status=MessageStatus.sending, sending_at=since, attempts=1)
            )

    async with db.system_session() as session:
        settled = await reconcile(session, DispatchPolicy(in_doubt_after=60), now)

    assert settled >= 1
    unknown, still_sending = await messages_of(db, [stuck, fresh])
    assert unknown.status is MessageStatus.unknown
    assert unknown.error_reason and "not resent" in unknown.error_reason
    assert still_sending.status is MessageStatus.sending
    assert await events_of(db, [stuck]) == {"failed": 1}


@pytest.mark.parametrize("attempts", [1, 3, 12])
def test_back_off_grows_with_jitter_within_the_cap_and_honours_retry_after(attempts: int) -> None:
    policy = DispatchPolicy()
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** (attempts - 1))
    delays = [backoff(attempts, None, policy) for _ in range(50)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert backoff(attempts, 900.0, policy) == 900.0


def test_a_batch_late_in_its_second_is_sent_in_the_next() -> None:
    early = utcnow().replace(microsecond=100_000)
    late = early.replace(microsecond=600_000)
    assert send_time(early) == early
    assert send_time(late) == early.replace(microsecond=0) + timedelta(seconds=1)


def _late_in_a_second() -> datetime:
    """A claim time past the middle of a second, after every message queued so far, and not
    in the last second of a minute (a late batch there always waits)."""
    late = (utcnow() + timedelta(seconds=1)).replace(microsecond=700_000)
    return late + timedelta(seconds=1) if late.second == 59 else late


async def _second_counts(db: Database, channel: Channel, late: datetime) -> tuple[int, int]:
    """What the current and the next second's windows of ``channel`` have granted."""
    current = late.replace(microsecond=0)
    async with db.system_session() as session:
        rows = await session.execute(
            select(ChannelSendWindow.window_start, ChannelSendWindow.count).where(
                ChannelSendWindow.channel_id == channel.id,
                ChannelSendWindow.span == WindowSpan.second,
            )
        )
        counts = {start: count for start, count in rows}
    return counts.get(current, 0), counts.get(current + timedelta(seconds=1), 0)


async def test_a_late_batch_with_room_in_its_second_goes_at_once_counted_in_both_seconds(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, make_tenant: MakeTenant
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=10)
    other = await make_tenant("Other dispatch")
    other_channel = await make_channel(db, app, other.id, sim, rate_per_second=10)
    ids = await queue(db, channel, 3) + await queue(db, other_channel, 2, to="+14155550200")
    late = _late_in_a_second()

    async with db.system_session() as session:
        _, batch = await claim_batch(session, FAST, late)

    assert batch.not_before == late
    # The claim spans every tenant of the shared test database: count this test's messages.
    assert set(ids) <= {job.message.id for job in batch.jobs}
    assert await _second_counts(db, channel, late) == (3, 3)
    assert await _second_counts(db, other_channel, late) == (2, 2)


async def test_a_late_batch_whose_second_is_full_waits_for_the_next(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=10)
    ids = await queue(db, channel, 3)
    late = _late_in_a_second()
    async with db.system_session() as session:
        repo = DispatchRepository(session)
        await repo.reserve(channel.id, WindowSpan.second, late.replace(microsecond=0), 10, 9)

    async with db.system_session() as session:
        _, batch = await claim_batch(session, FAST, late)

    assert batch.not_before == late.replace(microsecond=0) + timedelta(seconds=1)
    assert {job.message.id for job in batch.jobs} == set(ids)
    assert await _second_counts(db, channel, late) == (10, 3)


SIM_PRICE_MICROS = 5_000
"""The platform's simulator price per SMS segment (migration 0013)."""


async def _ledger(db: Database, message_ids: list[UUID]) -> list[tuple[str, int]]:
    async with db.system_session() as session:
        rows = await session.execute(
            select(WalletTransaction.kind, WalletTransaction.amount)
            .where(WalletTransaction.reference_id.in_(message_ids))
            .order_by(WalletTransaction.created_at)
        )
        return [(str(kind), int(amount)) for kind, amount in rows]


async def test_a_prepaid_tenant_sends_what_its_balance_covers_and_the_rest_waits(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    async with db.system_session() as session:
        await set_billing_mode(session, tenant.id, BillingMode.prepaid)
        await credit(session, tenant.id, 2 * SIM_PRICE_MICROS, reason="test", actor="test")
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    ids = await queue(db, channel, 3)

    await dispatch_once(db, http, FAST)

    messages = await messages_of(db, ids)
    assert [m.status for m in messages].count(MessageStatus.sent) == 2
    [waiting] = [m for m in messages if m.status is MessageStatus.queued]
    assert waiting.error_code == "insufficient_credits" and waiting.attempts == 0
    assert all(
        m.cost_micros == SIM_PRICE_MICROS for m in messages if m.status is MessageStatus.sent
    )
    async with db.system_session() as session:
        assert (await get_wallet(session, tenant.id)).balance == 0


async def test_a_retried_send_is_charged_once_and_its_failure_refunded_once(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    sim.sim.state.senders[channel.sender] = SenderControl(fail_transient_share=1.0)
    ids = await queue(db, channel, 1)
    policy = DispatchPolicy(backoff_base=0.01, backoff_cap=0.02, breaker_threshold=100)

    await drain(db, http, policy, 2)
    sim.sim.state.senders[channel.sender] = SenderControl(fail_permanent_share=1.0)
    await drain(db, http, policy, 2)

    [message] = await messages_of(db, ids)
    assert message.status is MessageStatus.failed and message.attempts == 3
    assert await _ledger(db, ids) == [("debit", -SIM_PRICE_MICROS), ("refund", SIM_PRICE_MICROS)]
    async with db.system_session() as session:
        assert (await get_wallet(session, tenant.id)).balance == 0


async def test_a_channel_with_a_broken_config_fails_its_messages_with_the_reason(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    async with db.system_session() as session:
        await session.execute(
            update(Channel).where(Channel.id == channel.id).values(config={"api_key": "x"})
        )
    ids = await queue(db, channel, 2)

    await dispatch_once(db, http, FAST)

    for message in await messages_of(db, ids):
        assert message.status is MessageStatus.failed and message.attempts == 0
        assert message.error_code == "channel_unusable"
        assert message.error_reason and "signing_secret" in message.error_reason
    assert await events_of(db, ids) == {"failed": 2}


async def test_a_long_body_is_priced_by_its_segments(
    db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    [message_id] = await queue(db, channel, 1)
    async with db.system_session() as session:
        await session.execute(
            update(Message).where(Message.id == message_id).values(body="x" * 200)
        )

    await dispatch_once(db, http, FAST)

    [message] = await messages_of(db, [message_id])
    assert message.status is MessageStatus.sent
    assert message.cost_micros == 2 * SIM_PRICE_MICROS
