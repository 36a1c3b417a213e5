"""A receipt whose error says the recipient opted out at the provider (Twilio 21610, WhatsApp
131050) opts the contact out of that medium, with the receipt as the proof, and nothing more is
attempted to them; an ordinary failure changes no consent, and another tenant's contact with
the same number keeps theirs."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import aiohttp
import httpx
from fastapi import FastAPI
from sqlalchemy import select

from herald.channel.models import Channel
from herald.contact.models import ConsentEvent, Contact
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.message.dispatch import DispatchPolicy, dispatch_once
from herald.message.models import MessageStatus
from tests.conftest import TenantFixture
from tests.hook.helpers import (
    Callback,
    make_channel,
    make_message,
    meta_status,
    process_all,
    twilio_status,
)
from tests.message import dispatch_fixtures
from tests.message.dispatch_fixtures import messages_of
from tests.sim.server import SimServer, http, sim, sim_server

__all__ = ["http", "sim", "sim_server"]

PHONE = "+14155550142"


async def _contact(client: httpx.AsyncClient, tenant: TenantFixture) -> UUID:
    body = {"phone": PHONE, "sms_status": "opted_in", "whatsapp_status": "opted_in"}
    answer = await client.post("/v1/contacts", json=body, headers=tenant.headers)
    assert answer.status_code == 201, answer.text
    return UUID(answer.json()["id"])


async def _sent_to(db: Database, channel: Channel, contact_id: UUID) -> str:
    provider_id = f"P{new_id().hex}"
    await make_message(db, channel, provider_id=provider_id, contact_id=contact_id)
    return provider_id


async def _post(client: httpx.AsyncClient, db: Database, callback: Callback) -> None:
    answer = await client.post(callback.path, content=callback.body, headers=callback.headers)
    assert answer.status_code == 200, answer.text
    await process_all(db)


async def _standing(db: Database, contact_id: UUID) -> tuple[str, str]:
    async with db.system_session() as session:
        contact = await session.get(Contact, contact_id)
        assert contact is not None
        return str(contact.sms_status), str(contact.whatsapp_status)


async def _proofs(db: Database, contact_id: UUID) -> list[dict[str, Any]]:
    async with db.system_session() as session:
        rows = await session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.contact_id == contact_id, ConsentEvent.status == "opted_out")
            .order_by(ConsentEvent.occurred_at)
        )
        return [
            {
                "channel": str(e.channel),
                "method": str(e.method),
                "source": e.source,
                "previous": str(e.previous_status),
                "code": e.details.get("error_code"),
            }
            for e in rows
        ]


async def test_twilio_21610_opts_the_contact_out_of_sms_and_stops_further_sends(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    contact_id, theirs = await _contact(client, tenant), await _contact(client, other_tenant)
    channel = await make_channel(db, tenant.id, "twilio")
    their_channel = await make_channel(db, other_tenant.id, "twilio")
    sid = await _sent_to(db, channel, contact_id)
    await _sent_to(db, their_channel, theirs)

    callback = twilio_status(channel.id, sid, "failed", error_code="21610")
    await _post(client, db, callback)
    await _post(client, db, callback)  # the provider's retry: a replay, no second proof

    assert await _standing(db, contact_id) == ("opted_out", "opted_in")
    assert await _proofs(db, contact_id) == [
        {
            "channel": "sms",
            "method": "integration",
            "source": "twilio receipt, error 21610",
            "previous": "opted_in",
            "code": "21610",
        }
    ]
    assert await _standing(db, theirs) == ("opted_in", "opted_in")

    sender = await dispatch_fixtures.make_channel(db, app, tenant.id, sim, rate_per_second=10)
    [next_one] = await dispatch_fixtures.queue(db, sender, 1, contact_id=contact_id, to=PHONE)
    await dispatch_once(db, http, DispatchPolicy(idle_seconds=0.01))
    [message] = await messages_of(db, [next_one])
    assert (message.status, message.error_code) == (MessageStatus.failed, "opted_out")
    assert list(sim.sim.state.find(to=PHONE, sender=sender.sender, provider=None)) == []


async def test_whatsapp_131050_opts_out_of_whatsapp_only(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    contact_id = await _contact(client, tenant)
    channel = await make_channel(db, tenant.id, "whatsapp_cloud")
    wamid = await _sent_to(db, channel, contact_id)

    await _post(client, db, meta_status(channel.id, [(wamid, "failed")], error_code=131050))

    assert await _standing(db, contact_id) == ("opted_in", "opted_out")
    [proof] = await _proofs(db, contact_id)
    assert (proof["channel"], proof["code"]) == ("whatsapp", "131050")
    assert proof["source"] == "whatsapp_cloud receipt, error 131050"


async def test_an_ordinary_failure_changes_no_consent(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    contact_id = await _contact(client, tenant)
    channel = await make_channel(db, tenant.id, "twilio")
    sid = await _sent_to(db, channel, contact_id)

    await _post(client, db, twilio_status(channel.id, sid, "undelivered", error_code="30003"))

    assert await _standing(db, contact_id) == ("opted_in", "opted_in")
    assert await _proofs(db, contact_id) == []
