from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from herald.contact.eligibility import Purpose
from herald.template.models import TemplateKind
from herald.template.render import MAX_SOURCE

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SOURCE)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Language = Annotated[str, StringConstraints(pattern="^[a-z]{2}(-[A-Z]{2})?$")]
Tags = Annotated[list[Label], Field(max_length=20)]
SampleValue = Annotated[str, StringConstraints(max_length=500)] | int | float | bool | None


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    body: Body = Field(description="Jinja text: {{ first_name }}, {{ custom.size }}, {{ link }}…")
    kind: TemplateKind = TemplateKind.sms
    purpose: Purpose = Purpose.marketing
    language: Language | None = Field(default=None, description="Empty: the tenant's default.")
    category: Label | None = None
    tags: Tags = Field(default_factory=list)


class TemplateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    body: Body | None = None
    purpose: Purpose | None = None
    language: Language | None = None
    category: Label | None = None
    tags: Tags | None = None


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    body: str
    kind: TemplateKind
    purpose: Purpose
    language: str | None
    category: str | None
    tags: list[str]
    variables: list[str]
    library_template_id: UUID | None
    use_count: int
    last_used_at: datetime | None
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(
        default_factory=list, description="On writes: what may surprise you when it is sent."
    )


class PreviewRequest(BaseModel):
    """Render for one of the tenant's contacts, for sample values, or (neither) for Herald's
    built-in sample person."""

    model_config = ConfigDict(extra="forbid")

    contact_id: UUID | None = None
    sample: dict[Annotated[str, StringConstraints(max_length=100)], SampleValue] | None = Field(
        default=None,
        max_length=50,
        description='Contact fields and "custom.<name>" keys with their values.',
    )
    discount_code: Annotated[str, StringConstraints(max_length=100)] | None = None
    provider: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = Field(
        default=None, description='Whose prices to quote; default "simulator".'
    )


class BodyPreviewRequest(PreviewRequest):
    """A preview of a body that is not saved: the body and what a template would say of it."""

    body: Body
    purpose: Purpose = Purpose.marketing
    language: Language | None = None


class Cost(BaseModel):
    amount: str = Field(description="Total in the currency's units, as a decimal string.")
    currency: str
    unit_price: str
    per: str = Field(description="What one unit price pays for, e.g. 'segment'.")


class Preview(BaseModel):
    text: str
    encoding: str = Field(description='"GSM-7" or "UCS-2".')
    segments: int
    characters: int
    cost: Cost | None
    cost_unavailable_reason: str | None = None
    footer_appended: bool
    warnings: list[str]


class LibraryTemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    slug: str
    name: str
    body: str
    category: str
    tags: list[str]
    purpose: Purpose
    language: str
    use_count: int


class LibraryUse(BaseModel):
    """Optional: a name for the copy (default: the library entry's, made unique)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
