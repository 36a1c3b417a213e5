"""Mitto SMS over its REST API (``POST /sms``, JSON, ``X-Mitto-API-Key``).

No batching: ``/smsbulk`` sends one identical text to many numbers, while Herald's messages
are personalised one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from herald.contact.models import ChannelKind
from herald.providers.base import (
    Accepted,
    CredentialCheck,
    ErrorKind,
    Failed,
    OutboundMessage,
    RetryLater,
    SendResult,
    WebhookEvent,
    secret_fields_of,
)
from herald.providers.http import Answer, by_http_status, call, outcome
from herald.providers.mitto import webhooks
from herald.providers.mitto.config import MittoConfig

RESPONSE_CODES: dict[int, ErrorKind] = {
    1: ErrorKind.retry_later,  # internal error
    2: ErrorKind.failed,  # invalid type
    3: ErrorKind.failed,  # empty message
    4: ErrorKind.failed,  # invalid text
    5: ErrorKind.failed,  # empty sender
    6: ErrorKind.failed,  # invalid sender
    7: ErrorKind.failed,  # empty receiver
    8: ErrorKind.failed,  # invalid receiver
}

CHECK_SENDER, CHECK_RECIPIENT = "Herald", "10000000000"
"""A ``test: true`` send (never delivered, not charged) is how credentials are checked: Mitto
documents no account endpoint."""


class MittoProvider:
    code = "mitto"
    kinds = frozenset({ChannelKind.sms})
    config_schema = MittoConfig
    secret_fields = secret_fields_of(MittoConfig)

    async def send(
        self, http: aiohttp.ClientSession, config: MittoConfig, message: OutboundMessage
    ) -> SendResult:
        if message.template is not None or message.media or not message.body:
            return Failed("unsupported_content", "Mitto sends text only: give a body")
        payload: dict[str, Any] = {
            "from": message.sender.lstrip("+"),
            "to": message.to.lstrip("+"),
            "text": message.body,
            "type": "auto",
            "reference": message.reference,
        }
        if message.status_callback_url:
            payload["callback"] = message.status_callback_url
        answer = await _post(http, config, payload)
        if not isinstance(answer, Answer):
            return answer
        body = answer.json()
        if answer.status != 200 or not isinstance(body, dict) or "responseCode" not in body:
            return by_http_status(answer, str(answer.status), _reason(body, answer))
        code = body["responseCode"]
        if code == 0 and body.get("id"):
            return Accepted(str(body["id"]), "sent")
        kind = (
            RESPONSE_CODES.get(code, ErrorKind.failed)
            if isinstance(code, int)
            else ErrorKind.failed
        )
        return outcome(kind, str(code), _reason(body, answer))

    async def check_credentials(
        self, http: aiohttp.ClientSession, config: MittoConfig
    ) -> CredentialCheck:
        payload = {"from": CHECK_SENDER, "to": CHECK_RECIPIENT, "text": "check", "test": True}
        answer = await _post(http, config, payload)
        if not isinstance(answer, Answer):
            return CredentialCheck(False, f"Mitto could not be reached: {answer.reason}")
        if answer.status in (401, 403):
            return CredentialCheck(False, "Mitto refused this API key (or this server's IP)")
        if answer.status == 200:
            return CredentialCheck(True, "Mitto accepted a test send with this API key")
        return CredentialCheck(False, f"Mitto answered HTTP {answer.status}")

    def verify(
        self, config: MittoConfig, request_url: str, headers: Mapping[str, str], raw_body: bytes
    ) -> bool:
        return webhooks.verify(config.webhook_token.get_secret_value(), request_url)

    def parse(self, config: MittoConfig, raw_body: bytes, content_type: str) -> list[WebhookEvent]:
        return webhooks.parse(raw_body, content_type, config.dlr_fields)


async def _post(
    http: aiohttp.ClientSession, config: MittoConfig, payload: dict[str, Any]
) -> Answer | RetryLater:
    return await call(
        http,
        "POST",
        f"{config.api_base_url}/sms",
        within=config.timeout(),
        headers={"X-Mitto-API-Key": config.api_key.get_secret_value()},
        json=payload,
    )


def _reason(body: Any, answer: Answer) -> str:
    if isinstance(body, dict) and body.get("responseText"):
        return str(body["responseText"])
    return f"HTTP {answer.status}"
