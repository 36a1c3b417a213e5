"""The interface every provider adapter implements, and the neutral values it speaks in.

An adapter never raises on a provider's answer: ``send`` classifies it into one of four
results (``Accepted``, ``RetryLater``, ``Failed``, ``OptedOut``), using a table of the
provider's error codes. Webhook parsing turns each provider's callbacks into ``Receipt``,
``Inbound`` and ``TemplateStatusUpdate`` values, so nothing above this package knows a
provider's field names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, TypeVar, runtime_checkable

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from herald.contact.models import ChannelKind


class ErrorKind(StrEnum):
    """What a provider's error means for the message: the three non-accepted outcomes."""

    retry_later = "retry_later"
    failed = "failed"
    opted_out = "opted_out"


class DeliveryStatus(StrEnum):
    """A message's state as Herald normalizes every provider's statuses."""

    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"
    undelivered = "undelivered"


@dataclass(frozen=True, slots=True)
class Media:
    """An attachment: a public URL to send, or a provider's media id received inbound."""

    content_type: str | None = None
    url: str | None = None
    provider_media_id: str | None = None
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class WhatsAppTemplate:
    """An approved template to send; ``components`` are ready-made Cloud API components."""

    name: str
    language: str
    components: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one recipient, as the dispatch worker hands it to an adapter.

    ``reference`` is Herald's id for the message; adapters pass it to the provider where the
    provider echoes it back (Vonage ``client-ref``, Mitto ``reference``, WhatsApp
    ``biz_opaque_callback_data``), so an in-doubt send can be matched later.
    """

    to: str
    sender: str
    reference: str
    kind: ChannelKind = ChannelKind.sms
    body: str | None = None
    template: WhatsAppTemplate | None = None
    media: tuple[Media, ...] = ()
    status_callback_url: str | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    provider_message_id: str
    provider_status: str
    segments: int | None = None
    price: Decimal | None = None
    price_currency: str | None = None


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Not processed by the provider (rate limit, outage, timeout): safe to send again."""

    code: str
    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """Refused for good: sending the same message again would fail the same way."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class OptedOut:
    """The recipient told the provider to stop: mark the contact, never retry."""

    code: str
    reason: str


SendResult = Accepted | RetryLater | Failed | OptedOut


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """A delivery report. ``event_id`` is stable across the provider's retries of the same
    report, so the webhook layer can de-duplicate on it."""

    provider_message_id: str
    status: DeliveryStatus
    provider_status: str
    event_id: str
    error_code: str | None = None
    error_reason: str | None = None
    error_kind: ErrorKind | None = None
    occurred_at: datetime | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ConcatPart:
    """One part of a long inbound SMS the provider did not reassemble (Vonage)."""

    reference: str
    part: int
    total: int


@dataclass(frozen=True, slots=True)
class Inbound:
    provider_message_id: str
    sender: str
    to: str
    body: str | None
    event_id: str
    media: tuple[Media, ...] = ()
    location: Location | None = None
    profile_name: str | None = None
    received_at: datetime | None = None
    opt_out_type: str | None = None
    concat: ConcatPart | None = None


@dataclass(frozen=True, slots=True)
class TemplateStatusUpdate:
    provider_template_id: str
    name: str
    language: str
    event: str
    event_id: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateQualityUpdate:
    """Meta's new quality score for a template (GREEN, YELLOW, RED or UNKNOWN), from the
    recipients' reactions: a warning that comes before Meta pauses a template."""

    provider_template_id: str
    name: str
    language: str
    previous_score: str
    new_score: str
    event_id: str


WebhookEvent = Receipt | Inbound | TemplateStatusUpdate | TemplateQualityUpdate


class ProviderConfig(BaseModel):
    """What a channel of a provider must be given; secrets are ``SecretStr`` fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_base_url: str = Field(max_length=300)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("api_base_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("api_base_url must be an http(s) URL")
        return value.rstrip("/")

    def timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.timeout_seconds)


def secret_fields_of(schema: type[ProviderConfig]) -> frozenset[str]:
    """The config fields to encrypt at rest and redact from logs: those typed ``SecretStr``."""
    return frozenset(
        name
        for name, info in schema.model_fields.items()
        if info.annotation in (SecretStr, SecretStr | None)
    )


ConfigT = TypeVar("ConfigT", bound=ProviderConfig, contravariant=True)


class Provider(Protocol[ConfigT]):
    """A provider adapter. Stateless: configuration and the HTTP session come with each call,
    so one instance serves every channel and the worker keeps one aiohttp session."""

    @property
    def code(self) -> str:
        """The key in the registry, stored on a channel."""

    @property
    def kinds(self) -> frozenset[ChannelKind]:
        """The media this provider carries."""

    @property
    def config_schema(self) -> type[ProviderConfig]:
        """Validates a channel's configuration for this provider."""

    @property
    def secret_fields(self) -> frozenset[str]:
        """Config fields to encrypt at rest and redact from logs."""

    async def send(
        self, http: aiohttp.ClientSession, config: ConfigT, message: OutboundMessage
    ) -> SendResult: ...

    async def check_credentials(
        self, http: aiohttp.ClientSession, config: ConfigT
    ) -> CredentialCheck: ...

    def verify(
        self, config: ConfigT, request_url: str, headers: Mapping[str, str], raw_body: bytes
    ) -> bool: ...

    def parse(self, config: ConfigT, raw_body: bytes, content_type: str) -> list[WebhookEvent]:
        """The events in a verified callback; unknown shapes give an empty list, never a raise.

        ``config`` is there for providers whose callbacks are shaped per channel (Mitto)."""
        ...


@runtime_checkable
class SupportsLookup(Protocol[ConfigT]):
    """Providers whose API answers "what happened to message X" (reconciling in-doubt sends)."""

    async def lookup(
        self, http: aiohttp.ClientSession, config: ConfigT, provider_message_id: str
    ) -> Receipt | None: ...
