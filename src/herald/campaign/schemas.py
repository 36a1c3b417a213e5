"""What the campaigns API accepts and answers."""

from __future__ import annotations

from datetime import date as Day
from datetime import datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from herald.campaign.automation_rules import AbSettings, AbTest, Recurrence
from herald.campaign.models import CampaignMode, CampaignStatus
from herald.contact.eligibility import Purpose
from herald.contact.models import ChannelKind
from herald.kit.urls import check_target
from herald.tenant.schemas import HHMM, FrequencyCap, QuietHours

MAX_BODY = 1600
MAX_LIST = 10_000
"""Explicit contact ids or numbers per campaign; larger audiences are segments or tags."""
MAX_VARIANTS = 5
MAX_STEPS = 20
LABELS = "ABCDE"
Tag = Annotated[str, Field(min_length=1, max_length=100)]
Phone = Annotated[str, Field(min_length=1, max_length=32)]
Parameter = Annotated[str, Field(max_length=1024)]


class Audience(BaseModel):
    """Exactly one of: everyone, a segment (rules re-evaluated at launch), contacts with any
    of the tags, a list of contacts, or a list of numbers (matched to contacts; new numbers
    become contacts without consent, so only a transactional campaign reaches them)."""

    model_config = ConfigDict(extra="forbid")

    all: Literal[True] | None = None
    segment_id: UUID | None = None
    tags: list[Tag] | None = Field(default=None, min_length=1, max_length=50)
    contact_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=MAX_LIST)
    phones: list[Phone] | None = Field(default=None, min_length=1, max_length=MAX_LIST)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'all', 'segment_id', 'tags', 'contact_ids' or 'phones'"
            )
        return self


class Exclusions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment_ids: list[UUID] = Field(default_factory=list, max_length=20)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    received_campaign_within_days: int | None = Field(default=None, ge=1, le=365)
    """Leave out whoever got a message of any campaign in the last N days."""


class Schedule(BaseModel):
    """``now``; ``at`` an instant; ``local``: ``local_time`` on ``date`` in each recipient's
    own zone (who is past it already gets it at once, within quiet hours)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["now", "at", "local"]
    at: datetime | None = None
    date: Day | None = None
    local_time: str | None = Field(default=None, pattern=HHMM)

    @model_validator(mode="after")
    def _fields_of_type(self) -> Self:
        if self.type == "at" and (self.at is None or self.at.tzinfo is None):
            raise ValueError("a schedule of type 'at' needs 'at' with a zone, e.g. '…T10:00Z'")
        if self.type == "local" and (self.date is None or self.local_time is None):
            raise ValueError("a schedule of type 'local' needs 'date' and 'local_time' (HH:MM)")
        return self


AnySchedule = Annotated[Schedule | Recurrence, Field(discriminator="type")]
"""Once (``now``, ``at``, ``local``) or ``recurring``."""


class Content(BaseModel):
    """One of: a ``body`` (a template in Herald's syntax: ``{{ first_name }}``, ``{{ link }}``,
    ``{{ discount_code }}``…), a saved SMS ``template_id``, or a ``whatsapp_template_id`` with
    its positional ``parameters``."""

    model_config = ConfigDict(extra="forbid")

    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY)
    template_id: UUID | None = None
    whatsapp_template_id: UUID | None = None
    parameters: list[Parameter] = Field(default_factory=list, max_length=100)

    def content_given(self) -> int:
        return sum(v is not None for v in (self.body, self.template_id, self.whatsapp_template_id))

    def columns(self) -> dict[str, Any]:
        return {
            "body": self.body,
            "template_id": self.template_id,
            "whatsapp_template_id": self.whatsapp_template_id,
            "params": {"parameters": self.parameters} if self.parameters else {},
        }


class VariantIn(Content):
    share_percent: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _one_content(self) -> Self:
        if self.content_given() != 1:
            raise ValueError("a variant needs one of 'body', 'template_id', 'whatsapp_template_id'")
        return self


class StepIn(Content):
    """A drip step: sent ``delay_minutes`` after the contact's previous message of the
    campaign (the first step: after the campaign's own message)."""

    delay_minutes: int = Field(ge=0, le=365 * 24 * 60)

    @model_validator(mode="after")
    def _one_content(self) -> Self:
        if self.content_given() != 1:
            raise ValueError("a step needs one of 'body', 'template_id', 'whatsapp_template_id'")
        return self


def shape_problem(
    mode: CampaignMode, variants: int, steps: int, ab: bool, recurring: bool
) -> str | None:
    """What is wrong with this combination of mode, variants, steps, A/B test and recurrence
    (None: nothing). Shared by the create body's check and the service's check of a change."""
    if mode is CampaignMode.drip:
        if steps == 0:
            return "a drip campaign needs 'steps' (at least one, each with its 'delay_minutes')"
        if variants > 1 or ab:
            return "a drip campaign has one content per step: no 'variants' and no 'ab' test"
        if recurring:
            return "a drip campaign runs once: give it no recurring schedule"
    elif steps:
        return "'steps' are for a drip campaign: set 'mode' to 'drip'"
    if ab and variants < 2:
        return "an A/B test ('ab') needs at least two 'variants'"
    return None


class _Settings(BaseModel):
    target_url: str | None = Field(default=None, max_length=2048)
    discount_code: str | None = Field(default=None, min_length=1, max_length=100)
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None
    exclusions: Exclusions | None = None

    @field_validator("target_url")
    @classmethod
    def _safe_target(cls, value: str | None) -> str | None:
        if value is not None:
            check_target(value)
        return value


def _check_variants(variants: list[VariantIn] | None) -> None:
    if variants is not None and sum(v.share_percent for v in variants) != 100:
        raise ValueError("the variants' 'share_percent' must add up to 100")


class CampaignCreate(Content, _Settings):
    """A campaign starts as a draft; ``send`` launches it, ``schedule`` sets it for later."""

    name: str = Field(min_length=1, max_length=200)
    channel_id: UUID | None = None
    sender_pool_id: UUID | None = None
    purpose: Purpose = Purpose.marketing
    audience: Audience
    variants: list[VariantIn] | None = Field(default=None, min_length=2, max_length=MAX_VARIANTS)
    schedule: AnySchedule | None = None
    mode: CampaignMode = CampaignMode.broadcast
    steps: list[StepIn] | None = Field(default=None, min_length=1, max_length=MAX_STEPS)
    """Drip only: the messages after the campaign's own, each after its delay."""
    ab: AbSettings | None = None
    """Test the variants on a share of the audience, then send the best to the rest."""

    @model_validator(mode="after")
    def _sender_and_content(self) -> Self:
        if (self.channel_id is None) == (self.sender_pool_id is None):
            raise ValueError("give either 'channel_id' or 'sender_pool_id', not both")
        if self.variants is None and self.content_given() != 1:
            raise ValueError(
                "give one of 'body', 'template_id' or 'whatsapp_template_id' (or 'variants')"
            )
        if self.variants is not None and self.content_given():
            raise ValueError("give the content either at the top or in 'variants', not both")
        _check_variants(self.variants)
        problem = shape_problem(
            self.mode,
            len(self.variant_list()),
            len(self.steps or []),
            self.ab is not None,
            isinstance(self.schedule, Recurrence),
        )
        if problem is not None:
            raise ValueError(problem)
        return self

    def variant_list(self) -> list[VariantIn]:
        if self.variants is not None:
            return self.variants
        return [VariantIn(**self.model_dump(include=set(Content.model_fields)), share_percent=100)]


class CampaignUpdate(_Settings):
    """Changes a draft or scheduled campaign; the keys sent replace the stored ones."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    audience: Audience | None = None
    variants: list[VariantIn] | None = Field(default=None, min_length=1, max_length=MAX_VARIANTS)
    mode: CampaignMode | None = None
    steps: list[StepIn] | None = Field(default=None, max_length=MAX_STEPS)
    """Replaces every step; ``[]`` removes them (with ``mode`` back to ``broadcast``)."""
    ab: AbSettings | None = None
    """``null`` ends the A/B test."""

    @model_validator(mode="after")
    def _shares(self) -> Self:
        _check_variants(self.variants)
        return self


class ScheduleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: AnySchedule


class VariantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    label: str
    share_percent: int
    body: str | None
    template_id: UUID | None
    whatsapp_template_id: UUID | None
    params: dict[str, Any]


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    position: int
    delay_minutes: int
    body: str | None
    template_id: UUID | None
    whatsapp_template_id: UUID | None
    params: dict[str, Any]


class Stats(BaseModel):
    """Counts of the campaign's message rows by status, and of its engagement events (each
    contact once); ``cost`` is what its sent messages cost, in micro-units of ``currency``."""

    queued: int = 0
    sending: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    undelivered: int = 0
    unknown: int = 0
    clicked: int = 0
    replied: int = 0
    opted_out: int = 0
    total: int = 0
    cost: int = 0
    currency: str | None = None


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    kind: ChannelKind
    channel_id: UUID | None
    sender_pool_id: UUID | None
    purpose: Purpose
    mode: CampaignMode
    status: CampaignStatus
    status_reason: str | None
    audience: dict[str, Any]
    exclusions: dict[str, Any]
    target_url: str | None
    discount_code: str | None
    schedule: dict[str, Any] | None
    next_run_at: datetime | None
    run_count: int
    ab: AbTest | None
    quiet_hours: dict[str, Any] | None
    frequency_cap: dict[str, Any] | None
    launched_at: datetime | None
    completed_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    variants: list[VariantRead] = Field(default_factory=list)
    steps: list[StepRead] = Field(default_factory=list)
    stats: Stats | None = None


class Launched(BaseModel):
    campaign: CampaignRead
    messages: int
    """Message rows this launch added (0 when it had been launched already)."""


class Preflight(BaseModel):
    recipients: int
    excluded: dict[str, int]
    """By reason: opted_out, no_consent, do_not_contact, blocked, suppressed, invalid_number,
    duplicate_number, frequency_cap, excluded (the campaign's own exclusions)."""
    segments: int | None
    """Per message of the first variant (SMS); None for WhatsApp."""
    encoding: str | None
    cost: int | None
    """Micro-units of ``currency``; None when no price applies to some recipients."""
    unpriced: int
    currency: str | None
    credits_available: int
    billing_mode: str
    first_send_at: datetime | None
    last_send_at: datetime | None
    warnings: list[str]


class VariantFigures(BaseModel):
    variant_id: UUID | None
    label: str | None
    messages: int
    sent: int
    delivered: int
    failed: int
    clicked: int
    replied: int
    opted_out: int
    cost: int


class Report(BaseModel):
    """The funnel counts every message that reached a stage or a later one."""

    campaign_id: UUID
    status: CampaignStatus
    messages: int
    sent: int
    delivered: int
    failed: int
    clicked: int
    replied: int
    opted_out: int
    cost: int
    currency: str | None
    variants: list[VariantFigures]
