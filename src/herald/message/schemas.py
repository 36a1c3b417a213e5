"""What the messages and events API accepts and answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from herald.contact.eligibility import Purpose
from herald.message.models import Direction, EventType, MessageStatus

MAX_BODY = 1600
"""Ten concatenated GSM-7 segments; WhatsApp text allows more, but one limit keeps rows small."""
MAX_PARAMETERS = 100
Parameter = Annotated[str, Field(max_length=1024)]


class TemplateRef(BaseModel):
    """A WhatsApp template synced to the channel, filled with positional body values."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    parameters: list[Parameter] = Field(default_factory=list, max_length=MAX_PARAMETERS)


class MessageCreate(BaseModel):
    """One message to one recipient: ``to`` (any format; national numbers are read in the
    tenant's country) or ``contact_id``, and either a ``body`` or a WhatsApp ``template``."""

    model_config = ConfigDict(extra="forbid")

    channel_id: UUID
    to: str | None = Field(default=None, min_length=1, max_length=32)
    contact_id: UUID | None = None
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY)
    template: TemplateRef | None = None
    purpose: Purpose = Purpose.transactional

    @model_validator(mode="after")
    def _one_recipient_one_content(self) -> Self:
        if (self.to is None) == (self.contact_id is None):
            raise ValueError("send either 'to' or 'contact_id', not both and not neither")
        if (self.body is None) == (self.template is None):
            raise ValueError("send either 'body' or 'template', not both and not neither")
        return self


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    channel_id: UUID
    contact_id: UUID | None
    campaign_id: UUID | None
    direction: Direction
    purpose: Purpose
    to: str | None = Field(validation_alias="to_address")
    from_: str | None = Field(validation_alias="from_address", serialization_alias="from")
    body: str | None
    template: dict[str, Any] | None
    encoding: str | None
    segments: int | None
    cost_micros: int | None
    currency: str | None
    status: MessageStatus
    provider_message_id: str | None
    error_code: str | None
    error_reason: str | None
    attempts: int
    next_attempt_at: datetime
    queued_at: datetime
    sending_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    received_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    type: EventType
    message_id: UUID | None
    contact_id: UUID | None
    campaign_id: UUID | None
    occurred_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class MessageFilters:
    channel_id: UUID | None = None
    contact_id: UUID | None = None
    campaign_id: UUID | None = None
    status: MessageStatus | None = None
    direction: Direction | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class EventFilters:
    type: EventType | None = None
    message_id: UUID | None = None
    contact_id: UUID | None = None
    campaign_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
