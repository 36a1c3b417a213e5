"""Request and response shapes of channels and sender pools.

A channel's ``config`` is shown with every secret field replaced by a marker,
``{"set": true}`` (or ``{"set": false}`` for an optional secret never given), so a client
sees which credentials are present and never their values.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from herald.channel.models import ChannelStatus
from herald.contact.models import ChannelKind
from herald.providers.registry import PROVIDERS

MAX_CONFIG_KEYS = 30
MAX_CONFIG_VALUE = 2000
MAX_POOL_MEMBERS = 100


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _bounded_config(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Keep a config small before the provider's schema reads it: flat, short values."""
    if value is None:
        return None
    if len(value) > MAX_CONFIG_KEYS:
        raise ValueError(f"config takes at most {MAX_CONFIG_KEYS} keys")
    for key, item in value.items():
        if len(key) > 64:
            raise ValueError("config keys are at most 64 characters")
        if isinstance(item, dict | list) or (
            isinstance(item, str) and len(item) > MAX_CONFIG_VALUE
        ):
            raise ValueError(
                f"config[{key!r}] must be a string, number, boolean or null of at most "
                f"{MAX_CONFIG_VALUE} characters"
            )
    return value


class Caps(Strict):
    rate_per_minute: int | None = Field(default=None, ge=1, le=10_000_000)
    rate_per_day: int | None = Field(default=None, ge=1, le=1_000_000_000)
    warmup_started_on: date | None = Field(
        default=None, description="From this day the daily cap starts at warmup_initial."
    )
    warmup_initial: int = Field(default=50, ge=1, le=1_000_000_000)


class ChannelCreate(Caps):
    kind: ChannelKind
    provider: str = Field(
        min_length=1,
        max_length=40,
        description="A provider of this kind of channel: the document lists every provider.",
        json_schema_extra={"enum": list[JsonValue](sorted(PROVIDERS))},
    )
    name: str = Field(min_length=1, max_length=100)
    sender: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="E.164 number or alphanumeric sender ID (SMS, required); the display "
        "number (WhatsApp, defaults to the phone_number_id).",
    )
    config: dict[str, Any] = Field(
        default_factory=dict, description="The provider's settings and credentials."
    )
    rate_per_second: int = Field(ge=1, le=100_000)
    display_name: str | None = Field(default=None, max_length=200)

    _config = field_validator("config")(_bounded_config)


class ChannelUpdate(Strict):
    """Only the fields given change. ``config`` merges into the stored one: a key set to
    ``null`` goes back to the provider's default; a secret is replaced, never read back."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    sender: str | None = Field(default=None, min_length=1, max_length=32)
    config: dict[str, Any] | None = None
    display_name: str | None = Field(default=None, max_length=200)
    rate_per_second: int | None = Field(default=None, ge=1, le=100_000)
    rate_per_minute: int | None = Field(default=None, ge=1, le=10_000_000)
    rate_per_day: int | None = Field(default=None, ge=1, le=1_000_000_000)
    warmup_started_on: date | None = None
    warmup_initial: int | None = Field(default=None, ge=1, le=1_000_000_000)

    _config = field_validator("config")(_bounded_config)


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: ChannelKind
    provider: str
    name: str
    sender: str
    config: dict[str, Any] = Field(description='Secrets appear as {"set": true}.')
    waba_id: str | None
    phone_number_id: str | None
    display_name: str | None
    quality_rating: str | None
    messaging_tier: str | None
    rate_per_second: int
    rate_per_minute: int | None
    rate_per_day: int | None
    warmup_started_on: date | None
    warmup_initial: int
    daily_cap: int | None = Field(description="Today's cap from the warm-up; null: unlimited.")
    status: ChannelStatus
    status_reason: str | None
    consecutive_failures: int
    last_success_at: datetime | None
    last_failure_at: datetime | None
    probe_after: datetime | None
    created_at: datetime
    updated_at: datetime


class ChannelFilters(BaseModel):
    kind: ChannelKind | None = None
    provider: str | None = None
    status: ChannelStatus | None = None


class PauseRequest(Strict):
    reason: str | None = Field(default=None, max_length=500)


class CredentialResult(BaseModel):
    ok: bool
    detail: str


class SubmitTemplate(Strict):
    template_id: UUID


class SyncResult(BaseModel):
    fetched: int = Field(description="Templates Meta listed.")
    created: int
    updated: int


class PoolCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    kind: ChannelKind
    channel_ids: list[UUID] = Field(default_factory=list, max_length=MAX_POOL_MEMBERS)


class PoolUpdate(Strict):
    """``channel_ids`` replaces the members; contacts stuck to a removed channel move."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    channel_ids: list[UUID] | None = Field(default=None, max_length=MAX_POOL_MEMBERS)


class PoolRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    kind: ChannelKind
    channel_ids: list[UUID]
    created_at: datetime
    updated_at: datetime
