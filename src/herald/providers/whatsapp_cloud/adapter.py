"""WhatsApp Cloud API (Meta Graph API): text, media and template messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from herald.contact.models import ChannelKind
from herald.providers.base import (
    Accepted,
    CredentialCheck,
    Failed,
    Media,
    OutboundMessage,
    SendResult,
    WebhookEvent,
    secret_fields_of,
)
from herald.providers.http import Answer, by_http_status, call, outcome
from herald.providers.whatsapp_cloud import webhooks
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig
from herald.providers.whatsapp_cloud.errors import ERRORS

MEDIA_KINDS = ("image", "video", "audio")


class WhatsAppCloudProvider:
    code = "whatsapp_cloud"
    kinds = frozenset({ChannelKind.whatsapp})
    config_schema = WhatsAppCloudConfig
    secret_fields = secret_fields_of(WhatsAppCloudConfig)

    async def send(
        self, http: aiohttp.ClientSession, config: WhatsAppCloudConfig, message: OutboundMessage
    ) -> SendResult:
        payload = build_payload(message)
        if payload is None:
            return Failed("empty_message", "give the message a body, a template or media")
        answer = await call(
            http,
            "POST",
            config.graph_url(f"{config.phone_number_id}/messages"),
            within=config.timeout(),
            headers=_bearer(config),
            json=payload,
        )
        if not isinstance(answer, Answer):
            return answer
        body = answer.json()
        messages = body.get("messages") if isinstance(body, dict) else None
        if answer.status == 200 and isinstance(messages, list) and messages:
            first = messages[0]
            return Accepted(str(first["id"]), str(first.get("message_status", "accepted")))
        return _refused(answer, body)

    async def check_credentials(
        self, http: aiohttp.ClientSession, config: WhatsAppCloudConfig
    ) -> CredentialCheck:
        answer = await call(
            http,
            "GET",
            config.graph_url(config.phone_number_id),
            within=config.timeout(),
            headers=_bearer(config),
            params={"fields": "display_phone_number,verified_name"},
        )
        if not isinstance(answer, Answer):
            return CredentialCheck(False, f"Meta could not be reached: {answer.reason}")
        body = answer.json()
        if answer.status == 200 and isinstance(body, dict):
            return CredentialCheck(
                True, f"phone number {body.get('display_phone_number', '?')} is reachable"
            )
        error = body.get("error", {}) if isinstance(body, dict) else {}
        return CredentialCheck(
            False, f"Meta refused the access token or phone number id: {error.get('message')}"
        )

    def verify(
        self,
        config: WhatsAppCloudConfig,
        request_url: str,
        headers: Mapping[str, str],
        raw_body: bytes,
    ) -> bool:
        return webhooks.verify(config.app_secret.get_secret_value(), headers, raw_body)

    def parse(
        self, config: WhatsAppCloudConfig, raw_body: bytes, content_type: str
    ) -> list[WebhookEvent]:
        return webhooks.parse(raw_body)


def build_payload(message: OutboundMessage) -> dict[str, Any] | None:
    """The Cloud API body: a template if given, else the first media (body as its caption),
    else text. ``None`` when there is nothing to send."""
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to.lstrip("+"),
        "biz_opaque_callback_data": message.reference,
    }
    if message.template is not None:
        template = message.template
        payload["type"] = "template"
        payload["template"] = {
            "name": template.name,
            "language": {"code": template.language},
            "components": template.components,
        }
    elif message.media and message.media[0].url:
        kind = _media_kind(message.media[0])
        item: dict[str, Any] = {"link": message.media[0].url}
        if message.body and kind != "audio":
            item["caption"] = message.body
        payload["type"] = kind
        payload[kind] = item
    elif message.body:
        payload["type"] = "text"
        payload["text"] = {"body": message.body, "preview_url": "http" in message.body}
    else:
        return None
    return payload


def _media_kind(media: Media) -> str:
    major = (media.content_type or "").split("/")[0]
    return major if major in MEDIA_KINDS else "document"


def _bearer(config: WhatsAppCloudConfig) -> dict[str, str]:
    return {"Authorization": f"Bearer {config.access_token.get_secret_value()}"}


def _refused(answer: Answer, body: Any) -> SendResult:
    """Graph errors are ``{"error": {"code", "message", "error_data": {"details"}}}``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return by_http_status(answer, str(answer.status), f"HTTP {answer.status}")
    code = error.get("code")
    details = (
        error.get("error_data", {}).get("details")
        if isinstance(error.get("error_data"), dict)
        else None
    )
    reason = str(details or error.get("message") or f"HTTP {answer.status}")
    if isinstance(code, int) and code in ERRORS:
        return outcome(ERRORS[code], str(code), reason, answer.retry_after())
    return by_http_status(answer, str(code or answer.status), reason)
