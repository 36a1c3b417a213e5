from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from herald.kit.urls import check_target
from herald.kit.zones import is_time_zone
from herald.tenant.models import TenantStatus


def check_timezone(value: str | None) -> str | None:
    if value is not None and not is_time_zone(value):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Paris'")
    return value


def check_discount_url(value: str | None) -> str | None:
    """A discount URL is checked like a link's target (its placeholders filled in), so a typo
    cannot later send a campaign's shoppers to a ``javascript:`` or credential-carrying URL."""
    if value is not None:
        if "{code}" not in value:
            raise ValueError("the discount URL must contain {code}, where the code goes")
        check_target(value.replace("{code}", "code").replace("{path}", "path"))
    return value


HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class QuietHours(BaseModel):
    """The local hours marketing may be sent in: from ``start`` (inclusive) to ``end``."""

    model_config = ConfigDict(extra="forbid")

    start: str = Field(default="09:00", pattern=HHMM, description="'HH:MM', local time.")
    end: str = Field(default="20:00", pattern=HHMM, description="'HH:MM', local time.")

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start >= self.end:
            raise ValueError("quiet hours: 'start' must come before 'end' on the same day")
        return self


class FrequencyCap(BaseModel):
    """At most ``max_messages`` marketing messages per contact in any ``window_days`` days."""

    model_config = ConfigDict(extra="forbid")

    max_messages: int = Field(ge=1, le=1000)
    window_days: int = Field(ge=1, le=365)


class TenantSettings(BaseModel):
    """The tenant's messaging preferences, stored in ``tenants.settings``.

    Every field has a default, so a tenant created before a field existed reads sensibly.
    """

    model_config = ConfigDict(extra="forbid")

    business_name: str | None = Field(
        default=None, max_length=200, description="Shown in messages; empty: the tenant's name."
    )
    default_language: str = Field(
        default="en", pattern="^[a-z]{2}(-[A-Z]{2})?$", description="ISO 639-1, e.g. 'en'."
    )
    smart_encoding: bool = Field(
        default=False,
        description="Replace curly quotes, dashes and odd spaces by GSM look-alikes before "
        "counting and sending SMS, so fewer messages fall back to UCS-2.",
    )
    append_opt_out_footer: bool = Field(
        default=True,
        description="Append the opt-out footer to a marketing SMS that lacks opt-out wording.",
    )
    opt_out_footer: dict[str, str] = Field(
        default_factory=lambda: {"en": "Reply STOP to opt out"},
        description="The footer per language code; the default language's is the fallback.",
    )
    short_link_domain: str | None = Field(
        default=None,
        max_length=253,
        pattern=r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
        description="A host name of the tenant's that points at Herald, for short links.",
    )
    discount_url: str | None = Field(
        default=None,
        max_length=2000,
        description="The store's discount URL with {code} and {path}, e.g. "
        "'https://shop.example/discount/{code}?redirect={path}'; wraps links that carry a code.",
    )

    quiet_hours: QuietHours = Field(
        default_factory=QuietHours,
        description="Marketing is sent only inside these local hours (each contact's zone); "
        "stricter legal hours of the number's country or US state still apply.",
    )
    frequency_cap: FrequencyCap | None = Field(
        default=None, description="A campaign skips contacts already at the cap; none: no cap."
    )

    _discount_url = field_validator("discount_url")(check_discount_url)


class TenantSettingsPatch(BaseModel):
    """A partial change of the settings: the keys sent replace those stored, the rest stay; a
    key sent as null goes back to its default."""

    model_config = ConfigDict(extra="forbid")

    business_name: str | None = Field(default=None, max_length=200)
    default_language: str | None = Field(default=None, pattern="^[a-z]{2}(-[A-Z]{2})?$")
    smart_encoding: bool | None = None
    append_opt_out_footer: bool | None = None
    opt_out_footer: (
        dict[Annotated[str, Field(max_length=16)], Annotated[str, Field(max_length=320)]] | None
    ) = Field(default=None, max_length=50, description="Language code → footer text.")
    short_link_domain: str | None = Field(
        default=None, max_length=253, pattern=r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$"
    )
    discount_url: str | None = Field(default=None, max_length=2000)
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None

    _discount_url = field_validator("discount_url")(check_discount_url)


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
    settings: TenantSettings
    created_at: datetime
    updated_at: datetime


class TenantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(default="US", pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$", description="ISO 4217")
    timezone: str = "UTC"

    _tz = field_validator("timezone")(check_timezone)


class TenantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    country: str | None = Field(default=None, pattern="^[A-Z]{2}$")
    currency: str | None = Field(default=None, pattern="^[A-Z]{3}$")
    timezone: str | None = None
    is_paused: bool | None = None
    paused: bool | None = Field(
        default=None,
        description="The kill switch: true stops every send of the tenant (queued messages "
        "wait, nothing is lost); false resumes them.",
    )
    settings: TenantSettingsPatch | None = None

    _tz = field_validator("timezone")(check_timezone)
