"""What other domains call: ``record_events`` (dispatch, receipts) and
``erase_contact_messages`` (a contact's erasure)."""

from __future__ import annotations

from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from herald.contact.models import ChannelKind
from herald.kit.database import Database
from herald.message.models import EventType, Message, MessageEvent
from herald.message.repository import EVENT_BATCH, record_events
from herald.message.service import erase_contact_messages
from tests.conftest import TenantFixture
from tests.message.helpers import make_channel, make_contact, make_template, send

TEMPLATE = {"name": "order_ready", "language": "en_US", "parameters": ["Ada", "A-7"]}


async def test_record_events_appends_many_in_one_call(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id)
    contact_id = await make_contact(db, tenant.id)
    made = await send(client, tenant, channel_id=channel, contact_id=contact_id, body="Hi")
    message_id = UUID(made["id"])
    rows = [
        {
            "tenant_id": tenant.id,
            "type": EventType.sent,
            "message_id": message_id,
            "contact_id": contact_id,
            "data": {"provider_message_id": "SM1"},
        },
        {"tenant_id": tenant.id, "type": "delivered", "message_id": message_id},
    ]
    async with db.tenant_session(tenant.id) as session:
        assert await record_events(session, rows) == 2
        assert await record_events(session, []) == 0
    listed = await client.get(
        "/v1/events", params={"message_id": made["id"]}, headers=tenant.headers
    )
    items = listed.json()["items"]
    assert [e["type"] for e in items] == ["delivered", "sent", "queued"]
    assert items[1]["data"] == {"provider_message_id": "SM1"}
    assert items[0]["data"] == {} and items[0]["contact_id"] is None


async def test_record_events_in_batches(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    rows = [
        {"tenant_id": tenant.id, "type": "clicked", "data": {"n": n}}
        for n in range(EVENT_BATCH + 1)
    ]
    async with db.tenant_session(tenant.id) as session:
        assert await record_events(session, rows) == EVENT_BATCH + 1
    async with db.tenant_session(tenant.id) as session:
        stored = await session.scalar(
            select(func.count()).select_from(MessageEvent).where(MessageEvent.type == "clicked")
        )
    assert stored == EVENT_BATCH + 1


async def test_record_events_needs_a_tenant_and_a_type(db: Database, tenant: TenantFixture) -> None:
    async with db.tenant_session(tenant.id) as session:
        with pytest.raises(ValueError, match="tenant_id"):
            await record_events(session, [{"type": "sent"}])
        with pytest.raises(ValueError, match="lost"):
            await record_events(session, [{"tenant_id": tenant.id, "type": "lost"}])


async def test_erasure_blanks_bodies_numbers_and_template_values(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    sms = await make_channel(db, tenant.id)
    whatsapp = await make_channel(db, tenant.id, ChannelKind.whatsapp)
    await make_template(db, tenant.id, whatsapp)
    contact_id = await make_contact(db, tenant.id)
    bystander = await make_contact(db, tenant.id)
    await send(client, tenant, channel_id=sms, contact_id=contact_id, body="Code 1234")
    await send(client, tenant, channel_id=whatsapp, contact_id=contact_id, template=TEMPLATE)
    kept = await send(client, tenant, channel_id=sms, contact_id=bystander, body="Code 5678")
    async with db.tenant_session(tenant.id) as session:
        await record_events(
            session,
            [
                {
                    "tenant_id": tenant.id,
                    "type": "replied",
                    "contact_id": contact_id,
                    "data": {"text": "call me on +12015550000"},
                }
            ],
        )
    async with db.tenant_session(tenant.id) as session:
        assert await erase_contact_messages(session, tenant.id, contact_id) == 2
    async with db.tenant_session(tenant.id) as session:
        erased = (
            await session.scalars(select(Message).where(Message.contact_id == contact_id))
        ).all()
        events = (
            await session.scalars(select(MessageEvent).where(MessageEvent.contact_id == contact_id))
        ).all()
        other = await session.get(Message, UUID(kept["id"]))
    for message in erased:
        assert (message.body, message.to_address, message.from_address) == (None, None, None)
        assert message.cost_micros is not None and message.status == "queued"
    templates = [m.template for m in erased if m.template is not None]
    assert templates == [{"name": "order_ready", "language": "en_US"}]
    assert all(e.data == {} for e in events) and len(events) == 3
    assert other is not None and other.body == "Code 5678" and other.to_address is not None


async def test_erasure_stays_in_its_tenant(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id)
    contact_id = await make_contact(db, tenant.id)
    made = await send(client, tenant, channel_id=channel, contact_id=contact_id, body="Hi")
    async with db.tenant_session(other_tenant.id) as session:
        assert await erase_contact_messages(session, other_tenant.id, contact_id) == 0
    read = await client.get(f"/v1/messages/{made['id']}", headers=tenant.headers)
    assert read.json()["body"] == "Hi"
