"""Vonage webhooks: signed SMS API callbacks (``sig`` parameter) or Messages API JWTs, and
delivery-receipt / inbound parsing.

SMS API signing: drop ``sig``, sort the other parameters by name, replace ``&`` and ``=``
inside values with ``_``, build ``&k=v&k=v…``; "md5hash" appends the secret and takes MD5,
the other methods are a hex HMAC keyed with the secret. The request's ``timestamp`` must be
within the window. Messages API webhooks instead carry ``Authorization: Bearer <JWT>``
(HS256, signature secret) whose ``payload_hash`` is the SHA-256 of the body.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
import orjson

from herald.providers.base import ConcatPart, ErrorKind, Inbound, Receipt, WebhookEvent
from herald.providers.signing import form_pairs, header, is_form
from herald.providers.vonage.errors import DLR_ERRORS, DLR_STATUSES

DIGESTS = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}


def signature(secret: str, method: str, params: Iterable[tuple[str, str]]) -> str:
    """The ``sig`` Vonage computes over ``params`` (``sig`` itself excluded)."""
    pairs = sorted((k, v) for k, v in params if k != "sig")
    text = "".join(f"&{k}={v.replace('&', '_').replace('=', '_')}" for k, v in pairs)
    if method == "md5hash":
        return hashlib.md5((text + secret).encode()).hexdigest()  # noqa: S324 - Vonage's scheme
    return hmac.new(secret.encode(), text.encode(), DIGESTS[method]).hexdigest()


def params_of(request_url: str, raw_body: bytes, content_type: str) -> dict[str, str]:
    """The callback's parameters: query string (GET), form or JSON body (POST)."""
    params = dict(form_pairs(urlsplit(request_url).query))
    if is_form(content_type):
        params.update(form_pairs(raw_body))
    elif raw_body.strip().startswith(b"{"):
        try:
            body = orjson.loads(raw_body)
        except orjson.JSONDecodeError:
            return params
        if isinstance(body, dict):
            params.update({k: str(v) for k, v in body.items() if not isinstance(v, dict | list)})
    return params


def verify_signed(
    secret: str, method: str, window: int, params: Mapping[str, str], now: float | None = None
) -> bool:
    given = params.get("sig", "")
    try:
        stamp = int(params.get("timestamp", ""))
    except ValueError:
        return False
    if abs((now or time.time()) - stamp) > window:
        return False
    expected = signature(secret, method, params.items())
    return hmac.compare_digest(given.lower().encode(), expected.encode())


def verify_jwt(secret: str, token: str, raw_body: bytes) -> bool:
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    expected = hashlib.sha256(raw_body).hexdigest()
    return hmac.compare_digest(str(claims.get("payload_hash", "")).encode(), expected.encode())


def verify(
    secret: str,
    method: str,
    window: int,
    request_url: str,
    headers: Mapping[str, str],
    raw_body: bytes,
) -> bool:
    authorization = header(headers, "Authorization") or ""
    if authorization.startswith("Bearer "):
        return verify_jwt(secret, authorization.removeprefix("Bearer ").strip(), raw_body)
    content_type = header(headers, "Content-Type") or ""
    return verify_signed(secret, method, window, params_of(request_url, raw_body, content_type))


def parse(raw_body: bytes, content_type: str) -> list[WebhookEvent]:
    """A delivery receipt (has ``status``) or an inbound SMS (has ``text``). For a GET
    callback, pass the query string as the body with the form content type."""
    params = params_of("", raw_body, content_type)
    message_id = params.get("messageId")
    if not message_id or "msisdn" not in params:
        return []
    if "status" in params:
        return [_receipt(message_id, params)]
    if "text" in params or "type" in params:
        return [_inbound(message_id, params)]
    return []


def _receipt(message_id: str, params: Mapping[str, str]) -> Receipt:
    status = params["status"]
    code = params.get("err-code") or None
    failing = code not in (None, "0")
    return Receipt(
        provider_message_id=message_id,
        status=DLR_STATUSES.get(status, DLR_STATUSES["unknown"]),
        provider_status=status,
        event_id=f"{message_id}:{status}:{code or '0'}",
        error_code=code if failing else None,
        error_kind=DLR_ERRORS.get(code or "", ErrorKind.failed) if failing else None,
        occurred_at=_timestamp(params.get("message-timestamp")),
        reference=params.get("client-ref") or None,
    )


def _inbound(message_id: str, params: Mapping[str, str]) -> Inbound:
    concat = None
    if params.get("concat") == "true":
        concat = ConcatPart(
            reference=params.get("concat-ref", ""),
            part=int(params.get("concat-part", "1")),
            total=int(params.get("concat-total", "1")),
        )
    return Inbound(
        provider_message_id=message_id,
        sender="+" + params["msisdn"].lstrip("+"),
        to=_number(params.get("to", "")),
        body=params.get("text"),
        event_id=message_id,
        received_at=_timestamp(params.get("message-timestamp")),
        concat=concat,
    )


def _number(value: str) -> str:
    """Numeric senders get their ``+``; an alphanumeric sender stays as it is."""
    return "+" + value if value.isdigit() else value


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
