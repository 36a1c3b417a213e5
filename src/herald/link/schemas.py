from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from herald.kit.urls import MAX_URL_LENGTH, check_target
from herald.link.models import DISCOUNT_CODE_LENGTH, UTM_LENGTH

DEFAULT_EXPIRY_DAYS = 60
MAX_EXPIRY_DAYS = 3650

TargetUrl = Annotated[
    str,
    Field(min_length=1, max_length=MAX_URL_LENGTH, examples=["https://shop.example/sale"]),
    AfterValidator(check_target),
]
UtmValue = Annotated[str | None, Field(min_length=1, max_length=UTM_LENGTH)]


class Utm(BaseModel):
    """Analytics parameters appended to the target (never replacing ones it already has)."""

    model_config = ConfigDict(extra="forbid")

    source: UtmValue = "herald"
    medium: UtmValue = "sms"
    campaign: UtmValue = None
    content: UtmValue = None
    term: UtmValue = None


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_url: TargetUrl
    campaign_id: UUID | None = None
    contact_id: UUID | None = None
    utm: Utm = Field(default_factory=Utm)
    discount_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=DISCOUNT_CODE_LENGTH,
        description="Applied through the tenant's discount_url setting, when it has one.",
    )
    expires_in_days: int = Field(default=DEFAULT_EXPIRY_DAYS, ge=1, le=MAX_EXPIRY_DAYS)


class LinkRead(BaseModel):
    id: UUID
    token: str
    short_url: str
    target_url: str
    redirect_url: str
    campaign_id: UUID | None
    contact_id: UUID | None
    message_id: UUID | None
    utm: Utm
    discount_code: str | None
    created_at: datetime
    expires_at: datetime
    expired: bool
    clicks: int
    human_clicks: int = Field(description="Clicks minus crawlers, link previews and HEAD probes.")
    first_clicked_at: datetime | None
    last_clicked_at: datetime | None
