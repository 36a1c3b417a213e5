from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from herald.contact.models import ChannelKind, ConsentStatus, Gender
from herald.kit.sizes import json_size

MAX_SAMPLE = 100

RULES_DESCRIPTION = (
    'Nested groups {"all": [...]}, {"any": [...]}, {"not": ...} of conditions '
    '{"field": ..., "op": ..., "value": ...}; custom fields are "custom.<key>" with a "type".'
)

MAX_RULES_BYTES = 32 * 1024
"""Rules are stored, shown in every segment read and compiled on each refresh; a real
audience's rules fit in a few hundred bytes."""


def _bounded_rules(rules: dict[str, Any]) -> dict[str, Any]:
    size = json_size(rules)
    if size > MAX_RULES_BYTES:
        raise ValueError(
            f"rules take {size} bytes as JSON, more than {MAX_RULES_BYTES}; use fewer "
            "conditions, or a tag for a long list of contacts"
        )
    return rules


Rules = Annotated[dict[str, Any], AfterValidator(_bounded_rules)]


class SegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    description: str | None
    rules: dict[str, Any]
    preset: str | None
    member_count: int | None
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SegmentCreate(BaseModel):
    """Either ``rules`` or a ``preset`` (``all``, ``male``, ``female``, ``tag:<name>``), which
    is expanded to the rules it stands for; ``name`` defaults to the preset's."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    rules: Rules | None = Field(default=None, description=RULES_DESCRIPTION)
    preset: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _rules_or_preset(self) -> Self:
        if (self.rules is None) == (self.preset is None):
            raise ValueError("send either 'rules' or 'preset', not both and not neither")
        if self.rules is not None and self.name is None:
            raise ValueError("'name' is required with 'rules'")
        return self


class SegmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    rules: Rules | None = Field(default=None, description=RULES_DESCRIPTION)


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: Rules = Field(description=RULES_DESCRIPTION)
    sample: int = Field(default=20, ge=0, le=MAX_SAMPLE)
    channel: ChannelKind | None = None


class SegmentContact(BaseModel):
    """The fields of a contact a person needs to recognise who a segment holds."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    phone_e164: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    gender: Gender | None
    birth_date: date | None
    tags: list[str]
    sms_status: ConsentStatus
    whatsapp_status: ConsentStatus
    created_at: datetime


class Preview(BaseModel):
    count: int
    sample: list[SegmentContact]
    eligible_count: int | None = Field(
        default=None,
        description="With ?channel=: how many of them a marketing campaign could reach there.",
    )
