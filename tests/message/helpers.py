"""Channels, contacts and WhatsApp templates made directly in the database for message tests
(the channels API is another branch's)."""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID

import httpx

from herald.channel.models import Channel
from herald.contact.models import ChannelKind, Contact
from herald.kit.database import Database
from herald.whatsapp import service as whatsapp_service
from herald.whatsapp.lifecycle import transition
from herald.whatsapp.models import TemplateCategory, TemplateStatus
from herald.whatsapp.schemas import TemplateCreate
from tests.conftest import TenantFixture

_numbers = itertools.count(1000)
ORDER_BODY = {
    "type": "BODY",
    "text": "Hi {{1}}, order {{2}} is ready.",
    "example": {"body_text": [["Ada", "A-1"]]},
}


def phone() -> str:
    """A valid US number no other test of this run uses."""
    return f"+1201555{next(_numbers) % 10000:04d}"


async def make_channel(
    db: Database, tenant_id: UUID, kind: ChannelKind = ChannelKind.sms, name: str | None = None
) -> UUID:
    async with db.tenant_session(tenant_id) as session:
        channel = Channel(
            tenant_id=tenant_id,
            kind=kind,
            provider="simulator" if kind is ChannelKind.sms else "whatsapp_cloud",
            name=name or f"{kind} {next(_numbers)}",
            sender="+12025550100",
            config={},
        )
        session.add(channel)
        await session.flush()
        return channel.id


async def make_contact(db: Database, tenant_id: UUID, **fields: Any) -> UUID:
    fields.setdefault("phone_e164", phone())
    async with db.tenant_session(tenant_id) as session:
        contact = Contact(tenant_id=tenant_id, source="test", **fields)
        session.add(contact)
        await session.flush()
        return contact.id


async def make_template(
    db: Database,
    tenant_id: UUID,
    channel_id: UUID,
    status: TemplateStatus = TemplateStatus.APPROVED,
    name: str = "order_ready",
    category: TemplateCategory = TemplateCategory.UTILITY,
) -> UUID:
    """A template synced to the channel, moved along Meta's review to ``status``."""
    data = TemplateCreate(
        name=name,
        language="en_US",
        category=category,
        components=[ORDER_BODY],
        channel_id=channel_id,
    )
    async with db.tenant_session(tenant_id) as session:
        template = await whatsapp_service.create_template(session, tenant_id, data)
        if status is not TemplateStatus.DRAFT:
            transition(template, TemplateStatus.PENDING)
        if status not in (TemplateStatus.DRAFT, TemplateStatus.PENDING):
            transition(template, status)
        await session.flush()
        return template.id


async def send(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    expect: int = 202,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> dict[str, Any]:
    if "channel_id" in body:
        body["channel_id"] = str(body["channel_id"])
    if "contact_id" in body:
        body["contact_id"] = str(body["contact_id"])
    response = await client.post("/v1/messages", json=body, headers=headers or tenant.headers)
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data
