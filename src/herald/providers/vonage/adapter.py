"""Vonage SMS over the legacy SMS API (``rest.nexmo.com/sms/json``).

Chosen over the Messages API because it answers each send with the price and the parts'
ids synchronously, carries ``client-ref`` through to receipts, and needs only a key and a
secret (the Messages API needs an application and a private key for JWT auth).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from herald.contact.models import ChannelKind
from herald.providers.base import (
    Accepted,
    CredentialCheck,
    ErrorKind,
    Failed,
    OutboundMessage,
    SendResult,
    WebhookEvent,
    secret_fields_of,
)
from herald.providers.http import Answer, by_http_status, call, outcome
from herald.providers.vonage import webhooks
from herald.providers.vonage.config import VonageConfig
from herald.providers.vonage.errors import SEND_STATUSES

CLIENT_REF_MAX = 40
THROTTLED_TEXT = "Throughput Rate Exceeded"


class VonageProvider:
    code = "vonage"
    kinds = frozenset({ChannelKind.sms})
    config_schema = VonageConfig
    secret_fields = secret_fields_of(VonageConfig)

    async def send(
        self, http: aiohttp.ClientSession, config: VonageConfig, message: OutboundMessage
    ) -> SendResult:
        if message.template is not None or message.media or not message.body:
            return Failed("unsupported_content", "Vonage SMS sends text only: give a body")
        answer = await call(
            http,
            "POST",
            f"{config.api_base_url}/sms/json",
            within=config.timeout(),
            data=_form(config, message),
        )
        if not isinstance(answer, Answer):
            return answer
        body = answer.json()
        parts = body.get("messages") if isinstance(body, dict) else None
        if answer.status != 200 or not isinstance(parts, list) or not parts:
            return by_http_status(answer, str(answer.status), f"HTTP {answer.status}")
        return _result(parts, answer)

    async def check_credentials(
        self, http: aiohttp.ClientSession, config: VonageConfig
    ) -> CredentialCheck:
        answer = await call(
            http,
            "GET",
            f"{config.api_base_url}/account/get-balance",
            within=config.timeout(),
            params={"api_key": config.api_key, "api_secret": config.api_secret.get_secret_value()},
        )
        if not isinstance(answer, Answer):
            return CredentialCheck(False, f"Vonage could not be reached: {answer.reason}")
        body = answer.json()
        if answer.status == 200 and isinstance(body, dict) and "value" in body:
            return CredentialCheck(True, f"Vonage balance is {body['value']}")
        return CredentialCheck(False, "Vonage refused this API key and secret")

    def verify(
        self, config: VonageConfig, request_url: str, headers: Mapping[str, str], raw_body: bytes
    ) -> bool:
        if config.signature_secret is None:
            return False
        return webhooks.verify(
            config.signature_secret.get_secret_value(),
            config.signature_method,
            config.signature_window_seconds,
            request_url,
            headers,
            raw_body,
        )

    def parse(self, config: VonageConfig, raw_body: bytes, content_type: str) -> list[WebhookEvent]:
        return webhooks.parse(raw_body, content_type)


def _form(config: VonageConfig, message: OutboundMessage) -> dict[str, str]:
    body = message.body or ""
    form = {
        "api_key": config.api_key,
        "api_secret": config.api_secret.get_secret_value(),
        "from": message.sender.lstrip("+"),
        "to": message.to.lstrip("+"),
        "text": body,
        "type": "text" if body.isascii() else "unicode",
        "client-ref": message.reference[:CLIENT_REF_MAX],
    }
    if message.status_callback_url:
        form["callback"] = message.status_callback_url
        form["status-report-req"] = "1"
    return form


def _result(parts: list[Any], answer: Answer) -> SendResult:
    """Every part must be accepted (status "0"); the first refused part decides otherwise."""
    for part in parts:
        status = str(part.get("status", ""))
        if status != "0":
            reason = str(part.get("error-text", f"status {status}"))
            if THROTTLED_TEXT in reason:
                return outcome(ErrorKind.retry_later, status, reason, answer.retry_after())
            return outcome(SEND_STATUSES.get(status, ErrorKind.failed), status, reason)
    return Accepted(
        provider_message_id=str(parts[0]["message-id"]),
        provider_status="accepted",
        segments=len(parts),
        price=_total_price(parts),
    )


def _total_price(parts: list[Any]) -> Decimal | None:
    try:
        return sum((Decimal(str(part["message-price"])) for part in parts), Decimal(0))
    except (KeyError, InvalidOperation):
        return None
