"""WhatsApp Cloud API webhooks: X-Hub-Signature-256, the handshake, and realistic payloads."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import orjson

from herald.providers.base import (
    DeliveryStatus,
    ErrorKind,
    Inbound,
    Location,
    Media,
    Receipt,
    TemplateStatusUpdate,
)
from herald.providers.whatsapp_cloud.adapter import WhatsAppCloudProvider
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig
from herald.providers.whatsapp_cloud.webhooks import subscription_challenge

SECRET = "app-secret-1234"
provider = WhatsAppCloudProvider()
config = WhatsAppCloudConfig(
    phone_number_id="106540352242922",
    access_token="EAAG-access-token",  # type: ignore[arg-type]
    app_secret=SECRET,  # type: ignore[arg-type]
)
JSON = "application/json"


def envelope(field: str, value: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": field, "value": value}]}],
        }
    )


def messages_value(**parts: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        **parts,
    }


def test_signature() -> None:
    body = envelope("messages", messages_value(statuses=[]))
    good = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert provider.verify(config, "https://x", {"X-Hub-Signature-256": good}, body)
    assert not provider.verify(config, "https://x", {"X-Hub-Signature-256": good}, body + b" ")
    wrong = "sha256=" + hmac.new(b"other-secret", body, hashlib.sha256).hexdigest()
    assert not provider.verify(config, "https://x", {"X-Hub-Signature-256": wrong}, body)
    assert not provider.verify(config, "https://x", {}, body)


def test_subscription_handshake() -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "verify-me-1",
        "hub.challenge": "1158201444",
    }
    assert subscription_challenge("verify-me-1", params) == "1158201444"
    assert subscription_challenge("another-token", params) is None
    assert subscription_challenge("verify-me-1", params | {"hub.mode": "unsubscribe"}) is None


def test_statuses_out_of_order_with_errors() -> None:
    wamid = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
    statuses = [
        {"id": wamid, "status": "read", "timestamp": "1764561600", "recipient_id": "16315551234"},
        {
            "id": wamid,
            "status": "sent",
            "timestamp": "1764561500",
            "recipient_id": "16315551234",
            "conversation": {"id": "c1", "origin": {"type": "marketing"}},
            "pricing": {"billable": True, "pricing_model": "PMP", "category": "marketing"},
        },
        {
            "id": "wamid.B",
            "status": "failed",
            "timestamp": "1764561700",
            "recipient_id": "16315550000",
            "errors": [
                {
                    "code": 131050,
                    "title": "Unable to deliver the message.",
                    "message": "Unable to deliver the message.",
                    "error_data": {"details": "The user has stopped marketing messages."},
                }
            ],
        },
    ]
    events = provider.parse(config, envelope("messages", messages_value(statuses=statuses)), JSON)
    assert [(e.status, e.event_id) for e in events if isinstance(e, Receipt)] == [
        (DeliveryStatus.read, f"{wamid}:read"),
        (DeliveryStatus.sent, f"{wamid}:sent"),
        (DeliveryStatus.failed, "wamid.B:failed"),
    ]
    failed = events[2]
    assert isinstance(failed, Receipt)
    assert failed.error_code == "131050"
    assert failed.error_kind is ErrorKind.opted_out
    assert failed.error_reason == "The user has stopped marketing messages."
    assert failed.occurred_at == datetime.fromtimestamp(1764561700, UTC)


def test_inbound_text_media_and_location() -> None:
    value = messages_value(
        contacts=[{"profile": {"name": "Ada"}, "wa_id": "447700900123"}],
        messages=[
            {
                "from": "447700900123",
                "id": "wamid.T",
                "timestamp": "1764561600",
                "type": "text",
                "text": {"body": "Hi there"},
            },
            {
                "from": "447700900123",
                "id": "wamid.I",
                "timestamp": "1764561601",
                "type": "image",
                "image": {
                    "caption": "receipt",
                    "mime_type": "image/jpeg",
                    "sha256": "x",
                    "id": "9001",
                },
            },
            {
                "from": "447700900123",
                "id": "wamid.L",
                "timestamp": "1764561602",
                "type": "location",
                "location": {
                    "latitude": 51.5,
                    "longitude": -0.12,
                    "name": "Shop",
                    "address": "1 High St",
                },
            },
        ],
    )
    text, image, place = provider.parse(config, envelope("messages", value), JSON)
    assert text == Inbound(
        provider_message_id="wamid.T",
        sender="+447700900123",
        to="+15550783881",
        body="Hi there",
        event_id="wamid.T",
        profile_name="Ada",
        received_at=datetime.fromtimestamp(1764561600, UTC),
    )
    assert isinstance(image, Inbound)
    assert image.media == (
        Media(content_type="image/jpeg", provider_media_id="9001", caption="receipt"),
    )
    assert isinstance(place, Inbound)
    assert place.location == Location(51.5, -0.12, "Shop", "1 High St")
    assert place.body is None


def test_template_status_update() -> None:
    value = {
        "event": "REJECTED",
        "message_template_id": 594425479261596,
        "message_template_name": "spring_sale",
        "message_template_language": "en_US",
        "reason": "INCORRECT_CATEGORY",
    }
    [update] = provider.parse(config, envelope("message_template_status_update", value), JSON)
    assert update == TemplateStatusUpdate(
        provider_template_id="594425479261596",
        name="spring_sale",
        language="en_US",
        event="REJECTED",
        event_id="594425479261596:REJECTED:INCORRECT_CATEGORY",
        reason="INCORRECT_CATEGORY",
    )


def test_foreign_or_broken_bodies_parse_to_nothing() -> None:
    assert provider.parse(config, b"not json", JSON) == []
    assert provider.parse(config, b'{"object": "page", "entry": []}', JSON) == []
    assert provider.parse(config, envelope("account_update", {"x": 1}), JSON) == []
