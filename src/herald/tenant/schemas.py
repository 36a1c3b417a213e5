from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from herald.tenant.models import TenantStatus

_TIMEZONES = available_timezones()


def check_timezone(value: str | None) -> str | None:
    if value is not None and value not in _TIMEZONES:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Paris'")
    return value


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    status: TenantStatus
    country: str
    currency: str
    timezone: str
    plan: str
    is_paused: bool
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TenantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(default="US", pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$", description="ISO 4217")
    timezone: str = "UTC"

    _tz = field_validator("timezone")(check_timezone)


class TenantUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    country: str | None = Field(default=None, pattern="^[A-Z]{2}$")
    currency: str | None = Field(default=None, pattern="^[A-Z]{3}$")
    timezone: str | None = None
    is_paused: bool | None = None
    settings: dict[str, Any] | None = None

    _tz = field_validator("timezone")(check_timezone)
