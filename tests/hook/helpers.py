"""Channels of every provider with known secrets, signed callbacks for each, and messages
waiting for receipts, made directly in the database."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import orjson
from sqlalchemy import select

from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.hook.flows import ProcessPolicy, process_once
from herald.hook.models import WebhookEvent
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.kit.models import utcnow
from herald.message.models import Message, MessageStatus
from herald.providers.signing import SIM_SIGNATURE_HEADER, sign_sim
from herald.providers.twilio.webhooks import SIGNATURE_HEADER as TWILIO_HEADER
from herald.providers.twilio.webhooks import signature as twilio_signature
from herald.providers.vonage.webhooks import signature as vonage_signature
from herald.providers.whatsapp_cloud.webhooks import SIGNATURE_HEADER as META_HEADER
from herald.providers.whatsapp_cloud.webhooks import sign as meta_sign

PUBLIC = "http://127.0.0.1:8000"
"""The test app's public URL (its settings set no HERALD_PUBLIC_URL nor port)."""
SIM_SECRET = "sim-signing-secret"
TWILIO_TOKEN = "twilio-auth-token-1"
META_SECRET = "meta-app-secret-1"
VERIFY_TOKEN = "meta-verify-token-1"
VONAGE_SECRET = "vonage-signature-secret"
MITTO_TOKEN = "mitto-webhook-token-0123"
FORM = "application/x-www-form-urlencoded"

CONFIGS: dict[str, dict[str, Any]] = {
    "simulator": {"api_key": "sim-key", "signing_secret": SIM_SECRET},
    "twilio": {"account_sid": "AC" + "0" * 32, "auth_token": TWILIO_TOKEN},
    "whatsapp_cloud": {
        "phone_number_id": "1234567890",
        "access_token": "meta-access-token",
        "app_secret": META_SECRET,
        "verify_token": VERIFY_TOKEN,
    },
    "vonage": {
        "api_key": "abcd1234",
        "api_secret": "vonage-secret",
        "signature_secret": VONAGE_SECRET,
    },
    "mitto": {"api_key": "mitto-api-key", "webhook_token": MITTO_TOKEN},
}


async def make_channel(db: Database, tenant_id: UUID, provider: str = "simulator") -> Channel:
    kind = ChannelKind.whatsapp if provider == "whatsapp_cloud" else ChannelKind.sms
    channel = Channel(
        id=new_id(),
        tenant_id=tenant_id,
        kind=kind,
        provider=provider,
        name=f"{provider} {new_id().hex[-8:]}",
        sender="+12025550100",
        config=dict(CONFIGS[provider]),
    )
    async with db.tenant_session(tenant_id) as session:
        session.add(channel)
    return channel


@dataclass(frozen=True)
class Callback:
    """A request to post: path (with query), body and headers."""

    path: str
    body: bytes
    headers: dict[str, str]


def sim_receipt(
    channel_id: UUID,
    provider_id: str,
    status: str,
    *,
    reference: str | None = None,
    at: str | None = None,
    error_code: str | None = None,
    secret: str = SIM_SECRET,
) -> Callback:
    payload = {
        "type": "receipt",
        "event_id": f"{provider_id}:{status}",
        "message_id": provider_id,
        "status": status,
        "error_code": error_code,
        "reference": reference,
        "timestamp": at,
    }
    body = orjson.dumps(payload)
    headers = {"Content-Type": "application/json", SIM_SIGNATURE_HEADER: sign_sim(secret, body)}
    return Callback(f"/v1/hooks/simulator/{channel_id}", body, headers)


def twilio_status(
    channel_id: UUID,
    sid: str,
    status: str,
    *,
    token: str = TWILIO_TOKEN,
    error_code: str | None = None,
) -> Callback:
    path = f"/v1/hooks/twilio/{channel_id}/status"
    params = [("MessageSid", sid), ("MessageStatus", status), ("AccountSid", "AC" + "0" * 32)]
    if error_code is not None:
        params.append(("ErrorCode", error_code))
    signed = twilio_signature(token, PUBLIC + path, params)
    return Callback(path, urlencode(params).encode(), {"Content-Type": FORM, TWILIO_HEADER: signed})


def twilio_inbound(channel_id: UUID, sid: str, body: str, sender: str = "+14155550100") -> Callback:
    path = f"/v1/hooks/twilio/{channel_id}/inbound"
    params = [("MessageSid", sid), ("From", sender), ("To", "+12025550100"), ("Body", body)]
    signed = twilio_signature(TWILIO_TOKEN, PUBLIC + path, params)
    return Callback(path, urlencode(params).encode(), {"Content-Type": FORM, TWILIO_HEADER: signed})


def meta_status(
    channel_id: UUID,
    statuses: list[tuple[str, str]],
    *,
    secret: str = META_SECRET,
    error_code: int | None = None,
) -> Callback:
    errors = [{"code": error_code, "title": "Error"}] if error_code is not None else []
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "12025550100", "phone_number_id": "1234567890"},
        "statuses": [
            {
                "id": wamid,
                "status": status,
                "timestamp": str(int(time.time())),
                "recipient_id": "1",
                **({"errors": errors} if errors else {}),
            }
            for wamid, status in statuses
        ],
    }
    return _meta(channel_id, {"field": "messages", "value": value}, secret)


def meta_template(
    channel_id: UUID, template_id: str, name: str, event: str, reason: str | None
) -> Callback:
    value = {
        "event": event,
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": "en_US",
        "reason": reason,
    }
    return _meta(
        channel_id, {"field": "message_template_status_update", "value": value}, META_SECRET
    )


def meta_messages(
    channel_id: UUID, sender: str, name: str, messages: list[dict[str, Any]]
) -> Callback:
    """A Cloud API ``messages`` callback from ``sender`` with their profile ``name``."""
    wa_id = sender.lstrip("+")
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "12025550100", "phone_number_id": "1234567890"},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "timestamp": str(int(time.time())), **m} for m in messages],
    }
    return _meta(channel_id, {"field": "messages", "value": value}, META_SECRET)


def _meta(channel_id: UUID, change: dict[str, Any], secret: str) -> Callback:
    envelope = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    body = orjson.dumps(envelope)
    headers = {"Content-Type": "application/json", META_HEADER: meta_sign(secret, body)}
    return Callback(f"/v1/hooks/whatsapp/{channel_id}", body, headers)


def vonage_dlr(
    channel_id: UUID, message_id: str, status: str, *, secret: str = VONAGE_SECRET
) -> Callback:
    params = {
        "messageId": message_id,
        "msisdn": "14155550100",
        "to": "12025550100",
        "status": status,
        "err-code": "0",
        "timestamp": str(int(time.time())),
    }
    params["sig"] = vonage_signature(secret, "md5hash", params.items())
    return Callback(
        f"/v1/hooks/vonage/{channel_id}", urlencode(params).encode(), {"Content-Type": FORM}
    )


def mitto_dlr(
    channel_id: UUID, message_id: str, status: str, *, token: str = MITTO_TOKEN
) -> Callback:
    body = orjson.dumps({"id": message_id, "status": status})
    path = f"/v1/hooks/mitto/{channel_id}?{urlencode({'token': token})}"
    return Callback(path, body, {"Content-Type": "application/json"})


async def make_message(
    db: Database,
    channel: Channel,
    *,
    status: MessageStatus = MessageStatus.sent,
    provider_id: str | None = None,
    cost_micros: int | None = None,
    contact_id: UUID | None = None,
) -> Message:
    """An outbound message of ``channel`` as dispatch leaves it (``sent`` with its provider id)."""
    message = Message(
        id=new_id(),
        tenant_id=channel.tenant_id,
        channel_id=channel.id,
        contact_id=contact_id,
        to_address="+14155550100",
        from_address=channel.sender,
        body="Hello",
        status=status,
        provider_message_id=provider_id,
        cost_micros=cost_micros,
        currency="USD" if cost_micros else None,
    )
    async with db.tenant_session(channel.tenant_id) as session:
        session.add(message)
    return message


async def reload_message(db: Database, message_id: UUID) -> Message:
    async with db.system_session() as session:
        found = await session.get(Message, message_id)
        assert found is not None
        return found


async def stored_events(db: Database, channel_id: UUID) -> list[WebhookEvent]:
    async with db.system_session() as session:
        rows = await session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.channel_id == channel_id)
            .order_by(WebhookEvent.id)
        )
        return list(rows)


async def process_all(db: Database) -> None:
    """Apply every stored callback that is due now."""
    while await process_once(db, ProcessPolicy(batch_size=100), utcnow()):
        pass
