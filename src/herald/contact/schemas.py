"""Request and response shapes of contacts, consent, do-not-contact and suppression rules."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from herald.contact import fields as rules
from herald.contact.models import ChannelKind, ConsentMethod, ConsentStatus, DncReason, Gender
from herald.kit.expiry import Expiry
from herald.kit.phone import check_region
from herald.kit.sizes import json_size

FIELD_KEY = rules.CUSTOM_KEY
MAX_CUSTOM_FIELDS = 100
MAX_BULK_PHONES = 10_000
Scalar = str | int | float | bool | None

Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=rules.TAG_MAX_LENGTH)
]
PhoneText = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Country = Annotated[
    str, StringConstraints(pattern="^[A-Za-z]{2}$", to_upper=True), AfterValidator(check_region)
]


def _text(name: str) -> StringConstraints:
    """A free text field: trimmed, at most its column's length (``herald.contact.fields``)."""
    return StringConstraints(strip_whitespace=True, max_length=rules.MAX_LENGTHS[name])


Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(rules.check_email)]
FirstName = Annotated[str, _text("first_name")]
LastName = Annotated[str, _text("last_name")]
Language = Annotated[str, _text("language")]
Company = Annotated[str, _text("company")]
BirthDate = Annotated[date, AfterValidator(rules.check_birth_date)]
TimeZone = Annotated[str, AfterValidator(rules.check_time_zone)]


def _unique_tags(tags: list[str] | None) -> list[str] | None:
    return None if tags is None else list(dict.fromkeys(tags))


def check_custom_fields(fields: dict[str, Any] | None) -> dict[str, Any] | None:
    """Identifier-like keys (≤ 64 chars); values are scalars or lists of scalars."""
    if fields is None:
        return None
    if len(fields) > MAX_CUSTOM_FIELDS:
        raise ValueError(f"at most {MAX_CUSTOM_FIELDS} custom fields")
    for key, value in fields.items():
        if not FIELD_KEY.match(key):
            raise ValueError(f"custom field name {key!r} must {rules.CUSTOM_KEY_RULE}")
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, dict | list) for item in items):
            raise ValueError(
                f"custom field {key!r} must be a string, number, boolean, null or a list of those"
            )
        rules.check_custom_size(key, value)
    rules.check_custom_total(json_size(fields))
    return fields


def _gender(value: Any) -> Any:
    """The words an import reads as a gender read the same here (``F``, ``woman``…)."""
    return rules.parse_gender(value) if isinstance(value, str) else value


Tags = Annotated[list[Tag], Field(max_length=rules.MAX_TAGS), AfterValidator(_unique_tags)]
CustomFields = Annotated[dict[str, Any], AfterValidator(check_custom_fields)]


class ContactFields(BaseModel):
    """The editable fields shared by create and update."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    first_name: FirstName | None = None
    last_name: LastName | None = None
    gender: Annotated[Gender, BeforeValidator(_gender)] | None = None
    birth_date: BirthDate | None = None
    timezone: TimeZone | None = None
    language: Language | None = None
    company: Company | None = None
    tags: Tags | None = None
    custom_fields: CustomFields | None = None
    source: str | None = Field(default=None, max_length=100)
    blocked: bool | None = None
    blocked_reason: str | None = Field(default=None, max_length=500)
    sms_status: ConsentStatus | None = None
    whatsapp_status: ConsentStatus | None = None
    consent_source: str | None = Field(
        default=None, max_length=200, description="Where the consent given here came from."
    )
    consent_wording: str | None = Field(
        default=None, max_length=5000, description="The text the person agreed to."
    )


class ContactCreate(ContactFields):
    phone: str = Field(min_length=1, max_length=40, description="Any format; stored as E.164.")
    country: Country | None = Field(
        default=None, description="ISO country for national formats (default: the tenant's)."
    )


class ContactUpdate(ContactFields):
    phone: str | None = Field(default=None, min_length=1, max_length=40)
    country: Country | None = None


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    phone_e164: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    gender: Gender | None
    birth_date: date | None
    timezone: str | None
    language: str | None
    company: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
    source: str | None
    sms_status: ConsentStatus
    sms_source: str | None
    sms_changed_at: datetime | None
    whatsapp_status: ConsentStatus
    whatsapp_source: str | None
    whatsapp_changed_at: datetime | None
    blocked: bool
    blocked_reason: str | None
    do_not_contact: bool = False
    last_message_at: datetime | None
    last_sent_at: datetime | None
    unread_count: int
    import_batch_id: UUID | None
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SortField(StrEnum):
    created_at = "created_at"
    updated_at = "updated_at"
    last_name = "last_name"
    last_message_at = "last_message_at"


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


class ContactFilter(BaseModel):
    """Filters of the list, also used to select contacts for bulk actions."""

    model_config = ConfigDict(extra="forbid")

    tag: Tag | None = None
    sms_status: ConsentStatus | None = None
    whatsapp_status: ConsentStatus | None = None
    source: str | None = Field(default=None, max_length=100)
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Prefix of a first or last name or an email; a number (digits with + ( ) - . "
        "and spaces) searches phone numbers by prefix.",
    )


class BulkTags(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add: list[Tag] = Field(default_factory=list, max_length=50)
    remove: list[Tag] = Field(default_factory=list, max_length=50)
    filter: ContactFilter = Field(default_factory=ContactFilter)
    all: bool = Field(
        default=False, description="Act on every contact of the tenant; required without a filter."
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> BulkTags:
        if not self.add and not self.remove:
            raise ValueError("give tags to add, to remove, or both")
        self._selection_is_explicit()
        both = set(self.add) & set(self.remove)
        if both:
            raise ValueError(f"tags both added and removed: {sorted(both)}")
        return self

    def _selection_is_explicit(self) -> None:
        """A request that selects nothing would act on every contact: a misspelled filter must
        not tag the whole tenant, so "everyone" is said out loud."""
        has_filter = bool(self.filter.model_dump(exclude_none=True))
        if not has_filter and not self.all:
            raise ValueError(
                'select contacts with a non-empty "filter", or send "all": true to act on every '
                "contact"
            )
        if has_filter and self.all:
            raise ValueError('"all": true selects every contact: send it without a "filter"')


class BulkTagsResult(BaseModel):
    matched: int
    changed: int


class ConsentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: ChannelKind
    status: ConsentStatus
    method: ConsentMethod = ConsentMethod.api
    source: str | None = Field(default=None, max_length=200)
    wording: str | None = Field(default=None, max_length=5000)
    resubscribe: bool = Field(
        default=False,
        description="Required to move an opted-out contact back in; recorded on the event.",
    )

    @model_validator(mode="after")
    def _resubscribe_is_explicit(self) -> ConsentChange:
        if self.method is ConsentMethod.erasure:
            raise ValueError("method 'erasure' is reserved for erasure requests")
        if self.resubscribe and self.status is ConsentStatus.opted_out:
            raise ValueError("resubscribe applies to a status other than opted_out")
        if self.resubscribe and not self.source:
            raise ValueError("a re-subscription needs a source saying where the consent came from")
        return self


class ConsentEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    contact_id: UUID
    channel: ChannelKind
    status: ConsentStatus
    previous_status: ConsentStatus | None
    method: ConsentMethod
    source: str | None
    wording: str | None
    actor: str | None
    ip: str | None
    details: dict[str, Any]
    occurred_at: datetime


class DncReasonIn(StrEnum):
    """Reasons a caller may give; ``erased`` is set only by an erasure."""

    stop = DncReason.stop.value
    complaint = DncReason.complaint.value
    manual = DncReason.manual.value


class DncCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=40)
    reason: DncReasonIn = DncReasonIn.manual
    note: str | None = Field(default=None, max_length=500)
    country: Country | None = None


class DncRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    phone_e164: str | None
    reason: DncReason
    note: str | None
    created_by: str | None
    created_at: datetime


class DncBulk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phones: list[PhoneText] = Field(min_length=1, max_length=MAX_BULK_PHONES)
    reason: DncReasonIn = DncReasonIn.manual
    note: str | None = Field(default=None, max_length=500)
    country: Country | None = None


class RejectedPhone(BaseModel):
    phone: str
    reason: str


class DncBulkResult(BaseModel):
    added: int
    already_present: int
    rejected: list[RejectedPhone]


class DncBulkRemove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phones: list[PhoneText] = Field(min_length=1, max_length=MAX_BULK_PHONES)
    country: Country | None = None


class DncBulkRemoveResult(BaseModel):
    removed: int
    not_found: int
    rejected: list[RejectedPhone]


class SuppressionRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    window_days: int = Field(default=90, ge=1, le=3650)
    channel: ChannelKind | None = Field(default=None, description="Empty: every channel.")
    is_active: bool = True
    expires_at: Expiry | None = None


class SuppressionRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    window_days: int | None = Field(default=None, ge=1, le=3650)
    channel: ChannelKind | None = None
    is_active: bool | None = None
    expires_at: Expiry | None = None


class SuppressionRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    window_days: int
    channel: ChannelKind | None
    is_active: bool
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ContactExport(BaseModel):
    """Everything Herald holds on one person."""

    exported_at: datetime
    contact: ContactRead
    consent_events: list[ConsentEventRead]
    do_not_contact: DncRead | None
