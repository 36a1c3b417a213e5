"""Channels on the simulator, and inbound messages built the way the webhook layer builds them:
a provider's real payload read by that provider's own ``parse``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import select

from herald.campaign.models import Campaign, CampaignStatus
from herald.channel.models import Channel
from herald.contact.models import ChannelKind, Contact
from herald.inbox.schemas import KeywordConfig
from herald.inbox.service import receive_inbound, save_keyword_settings
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.message.models import Message
from herald.providers.base import Inbound
from herald.providers.registry import PROVIDERS
from herald.providers.twilio.config import TwilioConfig
from herald.providers.twilio.webhooks import parse as twilio_parse
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig
from tests.sim.server import SimServer

_numbers = itertools.count(3000)
PHONE_NUMBER_ID = "106540352242922"


def phone() -> str:
    """A valid US number no other inbox test of this run uses."""
    return f"+1415555{next(_numbers) % 10000:04d}"


async def sms_channel(db: Database, tenant_id: UUID, sim: SimServer) -> Channel:
    channel = Channel(
        id=new_id(),
        tenant_id=tenant_id,
        kind=ChannelKind.sms,
        provider="simulator",
        name=f"sms {new_id().hex[-8:]}",
        sender=f"+1202555{next(_numbers) % 10000:04d}",
        config={
            "api_base_url": sim.url,
            "api_key": "test-key",
            "signing_secret": "test-signing-secret",
            "timeout_seconds": 5,
        },
        rate_per_second=100,
    )
    async with db.tenant_session(tenant_id) as session:
        session.add(channel)
    return channel


async def whatsapp_channel(db: Database, tenant_id: UUID, sim: SimServer) -> Channel:
    config = WhatsAppCloudConfig(
        api_base_url=f"{sim.url}/whatsapp",
        phone_number_id=PHONE_NUMBER_ID,
        access_token="EAAG-test-access-token",  # type: ignore[arg-type]
        app_secret="app-secret-1234",  # type: ignore[arg-type]
        timeout_seconds=5,
    )
    channel = Channel(
        id=new_id(),
        tenant_id=tenant_id,
        kind=ChannelKind.whatsapp,
        provider="whatsapp_cloud",
        name=f"wa {new_id().hex[-8:]}",
        sender="+15550783881",
        phone_number_id=PHONE_NUMBER_ID,
        config=config.model_dump(mode="json")
        | {
            "access_token": config.access_token.get_secret_value(),
            "app_secret": config.app_secret.get_secret_value(),
        },
        rate_per_second=100,
    )
    async with db.tenant_session(tenant_id) as session:
        session.add(channel)
    return channel


def sms_inbound(channel: Channel, sender: str, body: str, message_id: str | None = None) -> Inbound:
    """A text as the simulator's native webhook posts it, parsed by the simulator adapter."""
    payload = {
        "type": "inbound",
        "id": message_id or f"SIM{new_id().hex}",
        "from": sender,
        "to": channel.sender,
        "body": body,
        "timestamp": "2026-12-01T07:00:00Z",
    }
    provider = PROVIDERS["simulator"]
    events = provider.parse(
        provider.config_schema.model_validate(channel.config),
        orjson.dumps(payload),
        "application/json",
    )
    assert len(events) == 1 and isinstance(events[0], Inbound)
    return events[0]


def twilio_inbound(sender: str, to: str, body: str, **extra: str) -> Inbound:
    """A Twilio inbound form post (``OptOutType`` when Advanced Opt-Out answered it)."""
    form = {"MessageSid": f"SM{new_id().hex}", "From": sender, "To": to, "Body": body, **extra}
    raw = "&".join(f"{k}={v.replace('+', '%2B').replace(' ', '+')}" for k, v in form.items())
    events = twilio_parse(raw.encode(), "application/x-www-form-urlencoded")
    assert len(events) == 1 and isinstance(events[0], Inbound)
    return events[0]


TWILIO = TwilioConfig(account_sid="AC" + "0" * 32, auth_token="twilio-token")  # type: ignore[arg-type]


def whatsapp_inbound(
    sender: str, messages: Sequence[dict[str, Any]], name: str | None = "Ada"
) -> list[Inbound]:
    """A Cloud API ``messages`` webhook from ``sender`` (``messages`` without ``from``)."""
    wa_id = sender.lstrip("+")
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}] if name else [],
        "messages": [{"from": wa_id, "timestamp": "1764572400", **m} for m in messages],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }
    provider = PROVIDERS["whatsapp_cloud"]
    config = WhatsAppCloudConfig(
        phone_number_id=PHONE_NUMBER_ID,
        access_token="EAAG-test-access-token",  # type: ignore[arg-type]
        app_secret="app-secret-1234",  # type: ignore[arg-type]
    )
    events = provider.parse(config, orjson.dumps(payload), "application/json")
    return [e for e in events if isinstance(e, Inbound)]


def text(body: str) -> dict[str, Any]:
    return {"id": f"wamid.{new_id().hex}", "type": "text", "text": {"body": body}}


async def receive(db: Database, channel: Channel, events: Sequence[Inbound]) -> None:
    async with db.tenant_session(channel.tenant_id) as session:
        await receive_inbound(session, channel, events)


async def contact_by_phone(db: Database, tenant_id: UUID, number: str) -> Contact:
    async with db.system_session() as session:
        found = await session.scalar(
            select(Contact).where(Contact.tenant_id == tenant_id, Contact.phone_e164 == number)
        )
    assert found is not None
    return found


async def messages_to(db: Database, tenant_id: UUID, contact_id: UUID) -> list[Message]:
    async with db.system_session() as session:
        found = await session.scalars(
            select(Message)
            .where(Message.tenant_id == tenant_id, Message.contact_id == contact_id)
            .order_by(Message.created_at, Message.id)
        )
        return list(found)


async def put_keywords(db: Database, tenant_id: UUID, config: dict[str, Any]) -> None:
    async with db.tenant_session(tenant_id) as session:
        await save_keyword_settings(session, tenant_id, KeywordConfig.model_validate(config))


async def running_campaign(db: Database, channel: Channel) -> UUID:
    """A running campaign on ``channel`` for messages written by hand to belong to."""
    campaign = Campaign(
        tenant_id=channel.tenant_id,
        name="Sale",
        kind=channel.kind,
        channel_id=channel.id,
        status=CampaignStatus.running,
        audience={"all": True},
    )
    async with db.tenant_session(channel.tenant_id) as session:
        session.add(campaign)
        await session.flush()
        return campaign.id
