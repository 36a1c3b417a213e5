"""Twilio Programmable Messaging (SMS and WhatsApp) over its REST API."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from herald.contact.models import ChannelKind
from herald.providers.base import (
    Accepted,
    CredentialCheck,
    Failed,
    OutboundMessage,
    Receipt,
    SendResult,
    WebhookEvent,
    secret_fields_of,
)
from herald.providers.http import Answer, by_http_status, call, outcome
from herald.providers.twilio import webhooks
from herald.providers.twilio.config import TwilioConfig
from herald.providers.twilio.errors import ERRORS, STATUSES, error_kind

API_VERSION = "2010-04-01"


class TwilioProvider:
    code = "twilio"
    kinds = frozenset({ChannelKind.sms, ChannelKind.whatsapp})
    config_schema = TwilioConfig
    secret_fields = secret_fields_of(TwilioConfig)

    async def send(
        self, http: aiohttp.ClientSession, config: TwilioConfig, message: OutboundMessage
    ) -> SendResult:
        if message.template is not None:
            return Failed(
                "unsupported_content",
                "Twilio sends WhatsApp templates as Content API items (ContentSid), "
                "which this adapter does not build: send a body or media instead",
            )
        answer = await call(
            http,
            "POST",
            f"{_account_url(config)}/Messages.json",
            within=config.timeout(),
            headers=_auth(config),
            data=_form(config, message),
        )
        if not isinstance(answer, Answer):
            return answer
        body = answer.json()
        if answer.status in (200, 201) and isinstance(body, dict) and body.get("sid"):
            return _accepted(body)
        return _refused(answer, body)

    async def check_credentials(
        self, http: aiohttp.ClientSession, config: TwilioConfig
    ) -> CredentialCheck:
        answer = await call(
            http,
            "GET",
            f"{_account_url(config)}.json",
            within=config.timeout(),
            headers=_auth(config),
        )
        if not isinstance(answer, Answer):
            return CredentialCheck(False, f"Twilio could not be reached: {answer.reason}")
        body = answer.json()
        if answer.status == 200 and isinstance(body, dict):
            status = body.get("status", "unknown")
            return CredentialCheck(status == "active", f"Twilio account is {status}")
        if answer.status in (401, 403, 404):
            return CredentialCheck(False, "Twilio refused this Account SID and Auth Token")
        return CredentialCheck(False, f"Twilio answered HTTP {answer.status}")

    async def lookup(
        self, http: aiohttp.ClientSession, config: TwilioConfig, provider_message_id: str
    ) -> Receipt | None:
        """The message's current status, or ``None`` when Twilio has no such message (or cannot
        be asked right now: the caller tries again later)."""
        answer = await call(
            http,
            "GET",
            f"{_account_url(config)}/Messages/{provider_message_id}.json",
            within=config.timeout(),
            headers=_auth(config),
        )
        if not isinstance(answer, Answer) or answer.status != 200:
            return None
        body = answer.json()
        status = body.get("status") if isinstance(body, dict) else None
        if status not in STATUSES:
            return None
        code = body.get("error_code")
        return Receipt(
            provider_message_id=provider_message_id,
            status=STATUSES[status],
            provider_status=status,
            event_id=f"{provider_message_id}:{status}",
            error_code=str(code) if code else None,
            error_reason=body.get("error_message"),
            error_kind=error_kind(code),
        )

    def verify(
        self, config: TwilioConfig, request_url: str, headers: Mapping[str, str], raw_body: bytes
    ) -> bool:
        return webhooks.verify(config.auth_token.get_secret_value(), request_url, headers, raw_body)

    def parse(self, config: TwilioConfig, raw_body: bytes, content_type: str) -> list[WebhookEvent]:
        return webhooks.parse(raw_body, content_type)


def _account_url(config: TwilioConfig) -> str:
    return f"{config.api_base_url}/{API_VERSION}/Accounts/{config.account_sid}"


def _auth(config: TwilioConfig) -> dict[str, str]:
    token = config.auth_token.get_secret_value()
    return {"Authorization": aiohttp.encode_basic_auth(config.account_sid, token)}


def _form(config: TwilioConfig, message: OutboundMessage) -> list[tuple[str, str]]:
    prefix = "whatsapp:" if message.kind is ChannelKind.whatsapp else ""
    form = [("To", prefix + message.to)]
    if config.messaging_service_sid:
        form.append(("MessagingServiceSid", config.messaging_service_sid))
    else:
        form.append(("From", prefix + message.sender))
    if message.body:
        form.append(("Body", message.body))
    form.extend(("MediaUrl", media.url) for media in message.media if media.url)
    if message.status_callback_url:
        form.append(("StatusCallback", message.status_callback_url))
    return form


def _accepted(body: Mapping[str, Any]) -> Accepted:
    segments = str(body.get("num_segments") or "")
    return Accepted(
        provider_message_id=str(body["sid"]),
        provider_status=str(body.get("status", "queued")),
        segments=int(segments) if segments.isdigit() else None,
        price=_price(body.get("price")),
        price_currency=body.get("price_unit"),
    )


def _price(value: Any) -> Decimal | None:
    """Twilio reports a cost as a negative string ("-0.00750"); Herald keeps it positive."""
    if value in (None, ""):
        return None
    try:
        return abs(Decimal(str(value)))
    except InvalidOperation:
        return None


def _refused(answer: Answer, body: Any) -> SendResult:
    """Twilio's error body is ``{"code", "message", "status"}``; its code decides, else HTTP."""
    code = body.get("code") if isinstance(body, dict) else None
    reason = str(body.get("message")) if isinstance(body, dict) else f"HTTP {answer.status}"
    if isinstance(code, int) and code in ERRORS:
        return outcome(ERRORS[code], str(code), reason, answer.retry_after())
    return by_http_status(answer, str(code or answer.status), reason)
