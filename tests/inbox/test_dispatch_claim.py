"""An opt-out takes effect before the next queued message is sent, whichever campaign it
belongs to; the keyword's own confirmation still goes out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

import aiohttp
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import and_, delete, select

from herald.channel.models import Channel
from herald.contact.dnc_hash import phone_hash
from herald.contact.eligibility import Purpose, eligible
from herald.contact.models import ChannelKind, ConsentStatus, Contact, DncReason
from herald.contact.repository import DncRepository
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.kit.models import utcnow
from herald.message.dispatch import DispatchPolicy, dispatch_once
from herald.message.dispatch_repository import DispatchRepository
from herald.message.models import Message, MessageEvent, MessageStatus
from herald.wallet.models import BillingMode, WalletTransaction
from herald.wallet.service import set_billing_mode
from tests.conftest import TenantFixture
from tests.inbox.helpers import (
    contact_by_phone,
    messages_to,
    phone,
    put_keywords,
    receive,
    running_campaign,
    sms_channel,
    sms_inbound,
)
from tests.sim.server import SimServer, sim, sim_server

__all__ = ["sim", "sim_server"]

POLICY = DispatchPolicy(idle_seconds=0.01)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def queue_campaign_messages(
    db: Database, channel: Channel, contact_id: UUID, number: str, count: int
) -> list[UUID]:
    """``count`` marketing messages of different campaigns, due now."""
    campaigns = [await running_campaign(db, channel) for _ in range(count)]
    rows = [
        Message(
            id=new_id(),
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            contact_id=contact_id,
            campaign_id=campaigns[i],
            purpose=Purpose.marketing,
            to_address=number,
            from_address=channel.sender,
            body=f"Sale {i}",
        )
        for i in range(count)
    ]
    async with db.tenant_session(channel.tenant_id) as session:
        session.add_all(rows)
    return [row.id for row in rows]


async def statuses(db: Database, ids: list[UUID]) -> dict[UUID, tuple[str, str | None]]:
    async with db.system_session() as session:
        rows = await session.execute(
            select(Message.id, Message.status, Message.error_code).where(Message.id.in_(ids))
        )
        return {i: (str(s), c) for i, s, c in rows}


async def test_stop_fails_every_queued_message_and_sends_only_the_confirmation(
    db: Database, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    number = phone()
    await receive(db, channel, [sms_inbound(channel, number, "hi")])
    contact = await contact_by_phone(db, tenant.id, number)
    queued = await queue_campaign_messages(db, channel, contact.id, number, 2)

    await receive(db, channel, [sms_inbound(channel, number, "STOP please")])
    await dispatch_once(db, http, POLICY)

    assert set((await statuses(db, queued)).values()) == {("failed", "opted_out")}
    sent = list(sim.sim.state.find(to=number, sender=channel.sender, provider=None))
    assert len(sent) == 1 and "unsubscribed" in sent[0].body
    async with db.system_session() as session:
        failures = await session.scalar(
            select(MessageEvent.id)
            .where(MessageEvent.message_id.in_(queued), MessageEvent.type == "failed")
            .limit(1)
        )
    assert failures is not None
    reply = [
        m for m in await messages_to(db, tenant.id, contact.id) if m.body and "unsub" in m.body
    ]
    assert [m.status for m in reply] == [MessageStatus.sent]


async def test_do_not_contact_fails_the_queued_message_with_its_code(
    db: Database, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    number = phone()
    await receive(db, channel, [sms_inbound(channel, number, "hi")])
    contact = await contact_by_phone(db, tenant.id, number)
    [queued] = await queue_campaign_messages(db, channel, contact.id, number, 1)
    async with db.tenant_session(tenant.id) as session:
        await DncRepository(session).add_many(
            tenant.id, {phone_hash(tenant.id, number): number}, DncReason.manual, None, None
        )

    await dispatch_once(db, http, POLICY)

    assert (await statuses(db, [queued]))[queued] == ("failed", "do_not_contact")
    assert list(sim.sim.state.find(to=number, sender=channel.sender, provider=None)) == []


async def test_stop_with_do_not_contact_still_sends_the_confirmation(
    db: Database, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    await put_keywords(db, tenant.id, {"add_to_do_not_contact": True})
    channel = await sms_channel(db, tenant.id, sim)
    number = phone()
    await receive(db, channel, [sms_inbound(channel, number, "quit")])

    await dispatch_once(db, http, POLICY)

    [confirmation] = list(sim.sim.state.find(to=number, sender=channel.sender, provider=None))
    assert "unsubscribed" in confirmation.body


async def test_an_ordinary_message_to_an_opted_out_contact_is_not_sent(
    db: Database, tenant: TenantFixture, sim: SimServer, http: aiohttp.ClientSession
) -> None:
    """Only a compliance reply passes: a transactional message with the same body does not."""
    channel = await sms_channel(db, tenant.id, sim)
    number = phone()
    await receive(db, channel, [sms_inbound(channel, number, "stop")])
    contact = await contact_by_phone(db, tenant.id, number)
    async with db.tenant_session(tenant.id) as session:
        message = Message(
            tenant_id=tenant.id,
            channel_id=channel.id,
            contact_id=contact.id,
            to_address=number,
            body="You are unsubscribed.",
        )
        session.add(message)
    await dispatch_once(db, http, POLICY)
    assert (await statuses(db, [message.id]))[message.id] == ("failed", "opted_out")


@pytest.mark.parametrize(
    ("fields", "dnc", "refusal"),
    [
        ({}, False, None),
        ({"sms_status": ConsentStatus.opted_out}, False, "opted_out"),
        ({"whatsapp_status": ConsentStatus.opted_out}, False, None),
        ({}, True, "do_not_contact"),
        ({"blocked": True}, False, "blocked"),
    ],
)
async def test_the_claim_agrees_with_the_eligibility_rules(
    db: Database,
    tenant: TenantFixture,
    sim: SimServer,
    fields: dict[str, object],
    dnc: bool,
    refusal: str | None,
) -> None:
    """The claim's SQL restates ``herald.contact.eligibility`` for transactional sends (the
    claim's shape is raw SQL over messages): both must reach the same verdict."""
    channel = await sms_channel(db, tenant.id, sim)
    number = phone()
    async with db.tenant_session(tenant.id) as session:
        contact = Contact(tenant_id=tenant.id, phone_e164=number, source="test", **fields)
        session.add(contact)
        await session.flush()
        if dnc:
            await DncRepository(session).add_many(
                tenant.id, {phone_hash(tenant.id, number): number}, DncReason.manual, None, None
            )
        message = Message(
            tenant_id=tenant.id,
            channel_id=channel.id,
            contact_id=contact.id,
            to_address=number,
            next_attempt_at=LONG_AGO,  # first in the claim's order, whatever else is due
        )
        session.add(message)
        await session.flush()
        verdict = await session.scalar(
            select(and_(*eligible(tenant.id, ChannelKind.sms, Purpose.transactional))).where(
                Contact.id == contact.id
            )
        )
    async with db.system_session() as session:
        claimed = await DispatchRepository(session).claim(1, utcnow())
        # Out of the way of the next case (this test only reads the claim's verdict).
        await session.execute(delete(Message).where(Message.id == message.id))
    assert [c.id for c in claimed] == [message.id]
    assert [c.refusal for c in claimed] == [refusal]
    assert verdict is (refusal is None)


async def _ledger_of(db: Database, message_ids: list[UUID]) -> list[str]:
    async with db.system_session() as session:
        rows = await session.scalars(
            select(WalletTransaction.kind).where(WalletTransaction.reference_id.in_(message_ids))
        )
        return [str(kind) for kind in rows]


async def test_no_credit_and_a_reached_budget_do_not_hold_the_confirmation(
    db: Database,
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    """The confirmation the law requires goes out unpriced; the tenant's ordinary messages
    still wait for money, and another tenant's are charged as usual."""
    async with db.system_session() as session:
        await set_billing_mode(session, tenant.id, BillingMode.prepaid)
    body = {"daily_limit": 1, "monthly_limit": None}
    assert (await client.put("/v1/budget", json=body, headers=tenant.headers)).status_code == 200
    channel = await sms_channel(db, tenant.id, sim)
    number, other_number = phone(), phone()
    await receive(db, channel, [sms_inbound(channel, other_number, "hi")])
    customer = await contact_by_phone(db, tenant.id, other_number)
    [ordinary] = await queue_campaign_messages(db, channel, customer.id, other_number, 1)
    theirs_channel = await sms_channel(db, other_tenant.id, sim)
    await receive(db, theirs_channel, [sms_inbound(theirs_channel, number, "hello")])
    theirs = await contact_by_phone(db, other_tenant.id, number)
    [their_message] = await queue_campaign_messages(db, theirs_channel, theirs.id, number, 1)

    await receive(db, channel, [sms_inbound(channel, number, "STOP")])
    await dispatch_once(db, http, POLICY)

    [confirmation] = list(sim.sim.state.find(to=number, sender=channel.sender, provider=None))
    assert "unsubscribed" in confirmation.body
    stopped = await contact_by_phone(db, tenant.id, number)
    [_stop, reply] = await messages_to(db, tenant.id, stopped.id)
    assert (reply.status, reply.cost_micros) == (MessageStatus.sent, None)
    assert await _ledger_of(db, [reply.id]) == []
    status, code = (await statuses(db, [ordinary]))[ordinary]
    assert status == "queued" and code in ("daily_budget_reached", "insufficient_credits")
    assert (await statuses(db, [their_message]))[their_message][0] == "sent"
    assert await _ledger_of(db, [their_message]) == ["debit"]
