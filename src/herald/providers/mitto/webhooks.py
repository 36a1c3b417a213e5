"""Mitto delivery reports: a secret ``token`` in the callback URL, fields named per channel.

Mitto calls back with GET or POST (form or JSON); pass a GET's query string as the body with
the form content type. Statuses are matched case-insensitively, SMPP's short forms included.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import orjson

from herald.providers.base import DeliveryStatus, ErrorKind, Receipt, WebhookEvent
from herald.providers.mitto.config import MittoDlrFields
from herald.providers.signing import form_pairs, is_form

STATUSES: dict[str, DeliveryStatus] = {
    "sent": DeliveryStatus.sent,
    "accepted": DeliveryStatus.sent,
    "acceptd": DeliveryStatus.sent,
    "buffered": DeliveryStatus.sent,
    "enroute": DeliveryStatus.sent,
    "delivered": DeliveryStatus.delivered,
    "delivrd": DeliveryStatus.delivered,
    "undelivered": DeliveryStatus.undelivered,
    "undeliv": DeliveryStatus.undelivered,
    "expired": DeliveryStatus.undelivered,
    "deleted": DeliveryStatus.undelivered,
    "unknown": DeliveryStatus.undelivered,
    "rejected": DeliveryStatus.failed,
    "rejectd": DeliveryStatus.failed,
    "failed": DeliveryStatus.failed,
}


def verify(token: str, request_url: str) -> bool:
    given = parse_qs(urlsplit(request_url).query).get("token", [""])[0]
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def fields_of(raw_body: bytes, content_type: str) -> dict[str, str]:
    if is_form(content_type):
        return dict(form_pairs(raw_body))
    try:
        body = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(body, dict):
        return {}
    return {k: str(v) for k, v in body.items() if v is not None and not isinstance(v, dict | list)}


def parse(raw_body: bytes, content_type: str, names: MittoDlrFields) -> list[WebhookEvent]:
    fields = fields_of(raw_body, content_type)
    message_id, raw = fields.get(names.id), fields.get(names.status)
    if not message_id or not raw:
        return []
    status = STATUSES.get(raw.lower(), DeliveryStatus.undelivered)
    code = fields.get(names.error) or None
    failing = code not in (None, "0") or status in (
        DeliveryStatus.failed,
        DeliveryStatus.undelivered,
    )
    return [
        Receipt(
            provider_message_id=message_id,
            status=status,
            provider_status=raw,
            event_id=f"{message_id}:{raw.lower()}",
            error_code=code if code != "0" else None,
            error_kind=ErrorKind.failed if failing else None,
            occurred_at=_when(fields.get(names.timestamp)),
            reference=fields.get(names.reference) or None,
        )
    ]


def _when(value: str | None) -> datetime | None:
    """An ISO 8601 time or Unix seconds; a time without a zone is taken as UTC."""
    if not value:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
