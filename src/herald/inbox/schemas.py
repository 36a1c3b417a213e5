"""The inbox's API shapes: conversations, their messages and notes, replies, canned replies
and the keyword settings."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from herald.inbox.models import ConversationStatus, KeywordKind
from herald.message.schemas import TemplateRef

MAX_TAGS = 20
MAX_WORDS = 20
LANGUAGE = r"^[a-z]{2}(-[A-Z]{2})?$"
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Word = Annotated[str, Field(min_length=1, max_length=40)]


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    contact_id: UUID
    channel_id: UUID
    status: ConversationStatus
    snoozed_until: datetime | None
    assigned_to: UUID | None
    tags: list[str]
    unread_count: int
    last_message_id: UUID | None
    last_message_at: datetime
    last_direction: str | None
    last_preview: str | None = None
    window_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ConversationFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ConversationStatus | None = None
    assigned_to: UUID | None = None
    unassigned: bool = False
    unread: bool | None = None
    channel_id: UUID | None = None
    tag: Tag | None = None


class ConversationUpdate(BaseModel):
    """Only the fields sent change. ``assigned_to: null`` unassigns."""

    model_config = ConfigDict(extra="forbid")

    assigned_to: UUID | None = None
    status: ConversationStatus | None = None
    snoozed_until: datetime | None = None
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)

    @model_validator(mode="after")
    def _snooze_needs_a_time(self) -> ConversationUpdate:
        if self.status is ConversationStatus.snoozed and self.snoozed_until is None:
            raise ValueError("status 'snoozed' needs 'snoozed_until' (when it reopens)")
        if self.snoozed_until is not None and self.status is not ConversationStatus.snoozed:
            raise ValueError("'snoozed_until' goes with status 'snoozed'")
        if self.snoozed_until is not None and self.snoozed_until.tzinfo is None:
            raise ValueError("'snoozed_until' needs a time zone, e.g. 2026-12-24T09:00:00Z")
        return self


class ThreadMessage(BaseModel):
    """A message of a thread, either way, with what an inbound one carried."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    direction: str
    status: str
    body: str | None
    template: dict[str, Any] | None
    from_address: str | None
    to_address: str | None
    created_at: datetime
    received_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    media: list[dict[str, Any]] = Field(default_factory=list)
    location: dict[str, Any] | None = None


class ReplyCreate(BaseModel):
    """An agent's answer: free text (``body``), or a WhatsApp ``template``, or a saved
    ``canned_reply_id``."""

    model_config = ConfigDict(extra="forbid")

    body: str | None = Field(default=None, min_length=1, max_length=4096)
    template: TemplateRef | None = None
    canned_reply_id: UUID | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReplyCreate:
        given = [x for x in (self.body, self.template, self.canned_reply_id) if x is not None]
        if len(given) != 1:
            raise ValueError("send exactly one of 'body', 'template' or 'canned_reply_id'")
        return self


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=5000)


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    conversation_id: UUID
    author: str | None
    body: str
    created_at: datetime


class CannedReplyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=1600)
    language: str | None = Field(default=None, pattern=LANGUAGE)


class CannedReplyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    body: str | None = Field(default=None, min_length=1, max_length=1600)
    language: str | None = Field(default=None, pattern=LANGUAGE)


class CannedReplyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    body: str
    language: str | None
    created_at: datetime
    updated_at: datetime


class LanguageKeywords(BaseModel):
    """One language's extra words and reply texts; ``{business}`` in a reply is replaced by
    the tenant's business name. An empty reply falls back to the English default."""

    model_config = ConfigDict(extra="forbid")

    stop: list[Word] = Field(default_factory=list, max_length=MAX_WORDS)
    start: list[Word] = Field(default_factory=list, max_length=MAX_WORDS)
    help: list[Word] = Field(default_factory=list, max_length=MAX_WORDS)
    stop_reply: str | None = Field(default=None, min_length=1, max_length=480)
    start_reply: str | None = Field(default=None, min_length=1, max_length=480)
    help_reply: str | None = Field(default=None, min_length=1, max_length=480)

    def words(self) -> dict[KeywordKind, list[str]]:
        return {
            KeywordKind.stop: self.stop,
            KeywordKind.start: self.start,
            KeywordKind.help: self.help,
        }

    def reply(self, kind: KeywordKind) -> str | None:
        replies = {
            KeywordKind.stop: self.stop_reply,
            KeywordKind.start: self.start_reply,
            KeywordKind.help: self.help_reply,
        }
        return replies[kind]


class KeywordConfig(BaseModel):
    """The tenant's keyword settings. Built-in words (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
    QUIT, REVOKE, OPTOUT; START, UNSTOP, YES; HELP, INFO) always apply."""

    model_config = ConfigDict(extra="forbid")

    add_to_do_not_contact: bool = Field(
        default=False,
        description="Also put the number on the do-not-contact list when it opts out.",
    )
    languages: dict[str, LanguageKeywords] = Field(default_factory=dict, max_length=20)

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: dict[str, LanguageKeywords]) -> dict[str, LanguageKeywords]:
        bad = [code for code in value if not _is_language(code)]
        if bad:
            raise ValueError(f"language codes are ISO 639-1 like 'en' or 'es-MX', not {bad}")
        return value

    def words(self) -> dict[str, dict[KeywordKind, list[str]]]:
        """The tenant's extra words, by language and kind (as ``keywords.match`` takes them)."""
        return {language: keywords.words() for language, keywords in self.languages.items()}


def _is_language(code: str) -> bool:
    return re.fullmatch(LANGUAGE, code) is not None


class KeywordSettingsRead(KeywordConfig):
    built_in: dict[KeywordKind, list[str]]
