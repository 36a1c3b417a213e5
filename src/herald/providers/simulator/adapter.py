"""Herald's provider simulator, spoken natively: for demos, tests and benchmarks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp
import orjson

from herald.contact.models import ChannelKind
from herald.providers.base import (
    Accepted,
    CredentialCheck,
    ErrorKind,
    Inbound,
    OutboundMessage,
    Receipt,
    SendResult,
    WebhookEvent,
    secret_fields_of,
)
from herald.providers.http import Answer, by_http_status, call, outcome
from herald.providers.signing import verify_sim
from herald.providers.simulator.config import SimulatorConfig
from herald.providers.simulator.wire import ACCOUNT_PATH, ERRORS, MESSAGES_PATH, STATUSES


class SimulatorProvider:
    code = "simulator"
    kinds = frozenset({ChannelKind.sms, ChannelKind.whatsapp})
    config_schema = SimulatorConfig
    secret_fields = secret_fields_of(SimulatorConfig)

    async def send(
        self, http: aiohttp.ClientSession, config: SimulatorConfig, message: OutboundMessage
    ) -> SendResult:
        payload = {
            "to": message.to,
            "from": message.sender,
            "body": message.body or (message.template.name if message.template else ""),
            "reference": message.reference,
            "callback_url": message.status_callback_url,
        }
        answer = await call(
            http,
            "POST",
            config.api_base_url + MESSAGES_PATH,
            within=config.timeout(),
            headers=_bearer(config),
            json=payload,
        )
        if not isinstance(answer, Answer):
            return answer
        body = answer.json()
        if answer.status == 201 and isinstance(body, dict) and body.get("id"):
            return Accepted(str(body["id"]), str(body["status"]), segments=body.get("segments"))
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or error.get("code") not in ERRORS:
            return by_http_status(answer, str(answer.status), f"HTTP {answer.status}")
        code = str(error["code"])
        return outcome(ERRORS[code], code, str(error.get("message")), answer.retry_after())

    async def check_credentials(
        self, http: aiohttp.ClientSession, config: SimulatorConfig
    ) -> CredentialCheck:
        answer = await call(
            http,
            "GET",
            config.api_base_url + ACCOUNT_PATH,
            within=config.timeout(),
            headers=_bearer(config),
        )
        if not isinstance(answer, Answer):
            return CredentialCheck(False, f"the simulator could not be reached: {answer.reason}")
        if answer.status == 200:
            return CredentialCheck(True, "the simulator accepted this API key")
        return CredentialCheck(False, f"the simulator answered HTTP {answer.status}")

    async def lookup(
        self, http: aiohttp.ClientSession, config: SimulatorConfig, provider_message_id: str
    ) -> Receipt | None:
        answer = await call(
            http,
            "GET",
            f"{config.api_base_url}{MESSAGES_PATH}/{provider_message_id}",
            within=config.timeout(),
            headers=_bearer(config),
        )
        if not isinstance(answer, Answer) or answer.status != 200:
            return None
        body = answer.json()
        return _receipt(body) if isinstance(body, dict) else None

    def verify(
        self, config: SimulatorConfig, request_url: str, headers: Mapping[str, str], raw_body: bytes
    ) -> bool:
        return verify_sim(config.signing_secret.get_secret_value(), headers, raw_body)

    def parse(
        self, config: SimulatorConfig, raw_body: bytes, content_type: str
    ) -> list[WebhookEvent]:
        try:
            body = orjson.loads(raw_body)
        except orjson.JSONDecodeError:
            return []
        if not isinstance(body, dict):
            return []
        if body.get("type") == "receipt":
            receipt = _receipt(body)
            return [receipt] if receipt else []
        if body.get("type") == "inbound":
            return [_inbound(body)]
        return []


def _bearer(config: SimulatorConfig) -> dict[str, str]:
    return {"Authorization": f"Bearer {config.api_key.get_secret_value()}"}


def _receipt(body: dict[str, Any]) -> Receipt | None:
    status = STATUSES.get(str(body.get("status")))
    message_id = body.get("message_id") or body.get("id")
    if status is None or not message_id:
        return None
    code = body.get("error_code")
    return Receipt(
        provider_message_id=str(message_id),
        status=status,
        provider_status=status.value,
        event_id=str(body.get("event_id") or f"{message_id}:{status.value}"),
        error_code=code,
        error_reason=body.get("error_reason"),
        error_kind=ERRORS.get(code, ErrorKind.failed) if code else None,
        occurred_at=_when(body.get("timestamp")),
        reference=body.get("reference"),
    )


def _inbound(body: dict[str, Any]) -> Inbound:
    return Inbound(
        provider_message_id=str(body.get("id", "")),
        sender=str(body.get("from", "")),
        to=str(body.get("to", "")),
        body=body.get("body"),
        event_id=str(body.get("id", "")),
        received_at=_when(body.get("timestamp")),
    )


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
