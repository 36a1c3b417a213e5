"""WhatsApp Cloud API webhooks: ``X-Hub-Signature-256``, the subscription handshake, and the
``whatsapp_business_account`` envelope (statuses, inbound messages, template status updates).

Meta sends statuses in no set order ("read" may come without "delivered") and retries for
days; each status's ``event_id`` (message id + status) lets the caller keep the first copy.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from herald.providers.base import (
    DeliveryStatus,
    Inbound,
    Location,
    Media,
    Receipt,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
    WebhookEvent,
)
from herald.providers.signing import header
from herald.providers.whatsapp_cloud.errors import STATUSES, error_kind

SIGNATURE_HEADER = "X-Hub-Signature-256"
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")


def sign(app_secret: str, raw_body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify(app_secret: str, headers: Mapping[str, str], raw_body: bytes) -> bool:
    given = header(headers, SIGNATURE_HEADER)
    if not given:
        return False
    return hmac.compare_digest(given.lower().encode(), sign(app_secret, raw_body).encode())


def subscription_challenge(verify_token: str, params: Mapping[str, str]) -> str | None:
    """The ``hub.challenge`` to echo when Meta's GET handshake carries our verify token."""
    if params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge")


def parse(raw_body: bytes) -> list[WebhookEvent]:
    try:
        payload = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        return []
    events: list[WebhookEvent] = []
    for field, value in _changes(payload):
        if field == "messages":
            events.extend(_receipt(status) for status in _dicts(value.get("statuses")))
            names = _profile_names(value)
            to = "+" + str(_dict(value.get("metadata")).get("display_phone_number", "")).lstrip("+")
            events.extend(_inbound(message, to, names) for message in _dicts(value.get("messages")))
        elif field == "message_template_status_update":
            events.append(_template_update(value))
        elif field == "message_template_quality_update":
            events.append(_quality_update(value))
    return events


def _changes(payload: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            yield str(change.get("field", "")), _dict(change.get("value"))


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _receipt(status: dict[str, Any]) -> Receipt:
    raw = str(status.get("status", ""))
    wamid = str(status.get("id", ""))
    errors = _dicts(status.get("errors"))
    error = errors[0] if errors else {}
    code = error.get("code")
    details = _dict(error.get("error_data")).get("details")
    failed = raw == "failed"
    return Receipt(
        provider_message_id=wamid,
        status=STATUSES.get(raw, DeliveryStatus.failed if failed else DeliveryStatus.sent),
        provider_status=raw,
        event_id=f"{wamid}:{raw}",
        error_code=str(code) if code is not None else None,
        error_reason=details or error.get("message") or error.get("title"),
        error_kind=error_kind(code if isinstance(code, int) else None) if failed else None,
        occurred_at=_when(status.get("timestamp")),
        reference=status.get("biz_opaque_callback_data"),
    )


def _profile_names(value: dict[str, Any]) -> dict[str, str]:
    return {
        str(contact.get("wa_id")): str(_dict(contact.get("profile")).get("name"))
        for contact in _dicts(value.get("contacts"))
        if _dict(contact.get("profile")).get("name")
    }


def _inbound(message: dict[str, Any], to: str, names: Mapping[str, str]) -> Inbound:
    kind = message.get("type")
    sender = str(message.get("from", ""))
    wamid = str(message.get("id", ""))
    return Inbound(
        provider_message_id=wamid,
        sender="+" + sender.lstrip("+"),
        to=to,
        body=_text(message),
        event_id=wamid,
        media=_media(message, kind),
        location=_location(message) if kind == "location" else None,
        profile_name=names.get(sender),
        received_at=_when(message.get("timestamp")),
    )


def _text(message: dict[str, Any]) -> str | None:
    kind = message.get("type")
    if kind == "text":
        return _dict(message.get("text")).get("body")
    if kind == "button":
        return _dict(message.get("button")).get("text")
    if kind == "interactive":
        reply = _dict(message.get("interactive"))
        chosen = _dict(reply.get("button_reply")) or _dict(reply.get("list_reply"))
        return chosen.get("title")
    return None


def _media(message: dict[str, Any], kind: Any) -> tuple[Media, ...]:
    if kind not in MEDIA_TYPES:
        return ()
    item = _dict(message.get(kind))
    return (
        Media(
            content_type=item.get("mime_type"),
            provider_media_id=item.get("id"),
            caption=item.get("caption"),
        ),
    )


def _location(message: dict[str, Any]) -> Location | None:
    place = _dict(message.get("location"))
    try:
        return Location(
            latitude=float(place["latitude"]),
            longitude=float(place["longitude"]),
            name=place.get("name"),
            address=place.get("address"),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _quality_update(value: dict[str, Any]) -> TemplateQualityUpdate:
    template_id = str(value.get("message_template_id", ""))
    previous = str(value.get("previous_quality_score", ""))
    new = str(value.get("new_quality_score", ""))
    return TemplateQualityUpdate(
        provider_template_id=template_id,
        name=str(value.get("message_template_name", "")),
        language=str(value.get("message_template_language", "")),
        previous_score=previous,
        new_score=new,
        event_id=f"{template_id}:quality:{previous}:{new}",
    )


def _template_update(value: dict[str, Any]) -> TemplateStatusUpdate:
    template_id = str(value.get("message_template_id", ""))
    event = str(value.get("event", ""))
    reason = value.get("reason")
    return TemplateStatusUpdate(
        provider_template_id=template_id,
        name=str(value.get("message_template_name", "")),
        language=str(value.get("message_template_language", "")),
        event=event,
        event_id=f"{template_id}:{event}:{reason or ''}",
        reason=reason if reason and reason != "NONE" else None,
    )
