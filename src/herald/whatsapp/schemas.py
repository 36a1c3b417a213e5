from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from herald.whatsapp.components import MAX_COMPONENTS
from herald.whatsapp.models import (
    ParameterFormat,
    QualityRating,
    TemplateCategory,
    TemplateStatus,
)
from herald.whatsapp.rendering import TemplateValues

COMPONENTS_DESCRIPTION = (
    "Meta's authoring format: HEADER, BODY (required), FOOTER and BUTTONS objects, e.g. "
    '{"type": "BODY", "text": "Hi {{1}}!", "example": {"body_text": [["Ada"]]}}.'
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateCreate(Strict):
    name: str = Field(min_length=1, max_length=512, description="Lowercase, digits and _.")
    language: str = Field(min_length=2, max_length=15, description="e.g. en_US")
    category: TemplateCategory
    parameter_format: ParameterFormat = ParameterFormat.POSITIONAL
    components: list[dict[str, Any]] = Field(
        max_length=MAX_COMPONENTS, description=COMPONENTS_DESCRIPTION
    )
    channel_id: UUID | None = Field(default=None, description="The WhatsApp channel it is for.")


class TemplateUpdate(Strict):
    """Name, language and channel change only in DRAFT; the category in DRAFT or REJECTED."""

    name: str | None = Field(default=None, min_length=1, max_length=512)
    language: str | None = Field(default=None, min_length=2, max_length=15)
    category: TemplateCategory | None = None
    parameter_format: ParameterFormat | None = None
    components: list[dict[str, Any]] | None = Field(
        default=None, max_length=MAX_COMPONENTS, description=COMPONENTS_DESCRIPTION
    )
    channel_id: UUID | None = None


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    channel_id: UUID | None
    name: str
    language: str
    category: TemplateCategory
    parameter_format: ParameterFormat
    components: list[dict[str, Any]]
    status: TemplateStatus
    rejection_reason: str | None
    quality_rating: QualityRating
    meta_template_id: str | None
    submitted_at: datetime | None
    status_changed_at: datetime | None
    status_history: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class TemplateFilters(BaseModel):
    status: TemplateStatus | None = None
    category: TemplateCategory | None = None
    language: str | None = Field(default=None, max_length=15)
    name: str | None = Field(default=None, max_length=512)
    channel_id: UUID | None = None


class ProblemRead(BaseModel):
    field: str
    message: str


class ValidationResult(BaseModel):
    valid: bool
    problems: list[ProblemRead]


class RenderRequest(Strict):
    values: TemplateValues = Field(default_factory=TemplateValues)
    to: str | None = Field(
        default=None, min_length=5, max_length=20, description="Also build the whole message."
    )


class RenderResult(BaseModel):
    components: list[dict[str, Any]]
    message: dict[str, Any] | None = Field(
        default=None, description="The body of POST /{phone_number_id}/messages, given `to`."
    )


class StatusChange(Strict):
    status: TemplateStatus
    reason: str | None = Field(default=None, max_length=1000)
