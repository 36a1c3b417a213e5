"""The two-way inbox: a conversation per contact and channel, its notes, canned replies, the
tenant's keyword settings, what inbound messages carried besides text, and the compliance
replies (opt-out confirmations, HELP answers) that must reach even an opted-out contact."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum, utcnow


class ConversationStatus(StrEnum):
    open = "open"
    snoozed = "snoozed"
    """Until ``snoozed_until``; it reads as open again once that time has passed."""
    closed = "closed"


class KeywordKind(StrEnum):
    stop = "stop"
    start = "start"
    help = "help"


class Conversation(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    """One thread per contact and channel. Its last message and unread count are kept here,
    written with each message, so the inbox list never aggregates ``messages``. No copy of
    the text is kept: the list reads the last message by its id (erasing a person blanks
    their messages, and with them what the inbox shows).

    The list walks an index in its own order (by tenant, by assignee or by channel) from the
    cursor on, checking status and unread along the way: what a page reads depends on how
    many rows match, not on how many there are. A rare tag is found through its GIN index."""

    __tablename__ = "conversations"
    __audited__ = frozenset({"status", "snoozed_until", "assigned_to"})
    __table_args__ = (
        UniqueConstraint("tenant_id", "contact_id", "channel_id"),
        Index("ix_conversations_tenant_id_last_message_at", "tenant_id", "last_message_at", "id"),
        Index(
            "ix_conversations_tenant_id_assigned_to_last_message_at",
            "tenant_id",
            "assigned_to",
            "last_message_at",
            "id",
        ),
        Index(
            "ix_conversations_tenant_id_channel_id_last_message_at",
            "tenant_id",
            "channel_id",
            "last_message_at",
            "id",
        ),
        Index("ix_conversations_tags", "tags", postgresql_using="gin"),
    )

    contact_id: Mapped[UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel_id: Mapped[UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    status: Mapped[ConversationStatus] = mapped_column(
        str_enum(ConversationStatus), default=ConversationStatus.open
    )
    snoozed_until: Mapped[datetime | None]
    assigned_to: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    unread_count: Mapped[int] = mapped_column(default=0, server_default="0")
    last_message_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_direction: Mapped[str | None] = mapped_column(String(8))
    window_expires_at: Mapped[datetime | None]
    """WhatsApp: the customer-service window (24 hours after the contact's last message) in
    which free text may be sent; NULL on SMS, where there is no such window."""


class ConversationNote(IdMixin, TenantScopedMixin, Base):
    """Internal: seen by the team, never sent."""

    __tablename__ = "conversation_notes"
    __audited__ = frozenset({"conversation_id", "author"})
    """The note's text can hold personal data: named by its row, never copied."""
    __table_args__ = (
        Index("ix_conversation_notes_conversation_id_created_at", "conversation_id", "created_at"),
    )

    conversation_id: Mapped[UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    author: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class CannedReply(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    __tablename__ = "canned_replies"
    __audited__ = frozenset({"name", "language"})
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))


class KeywordSettings(TenantScopedMixin, TimestampMixin, Base):
    """A tenant's keyword words and replies per language (validated by
    ``herald.inbox.schemas.KeywordConfig``); a tenant without a row uses the defaults."""

    __tablename__ = "keyword_settings"
    __audited__ = frozenset({"config"})

    tenant_id: Mapped[UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class InboundContent(TenantScopedMixin, Base):
    """What an inbound message carried besides text: media (by the provider's id, downloaded
    on demand) and a shared location."""

    __tablename__ = "inbound_contents"
    __audited__ = False
    """Part of an inbound message (media, location), which is its own log."""
    __personal_data__ = frozenset({"media", "location"})

    message_id: Mapped[UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    media: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))


class ComplianceReply(TenantScopedMixin, Base):
    """An outbound answer to a keyword. Only a message listed here is sent to a contact who
    opted out or is on the do-not-contact list (the dispatch claim checks this table), and
    one inbound message gets at most one answer."""

    __tablename__ = "compliance_replies"
    __audited__ = False
    """A listing of messages, which are their own log."""
    __table_args__ = (UniqueConstraint("inbound_message_id"),)

    message_id: Mapped[UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    inbound_message_id: Mapped[UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    keyword: Mapped[KeywordKind] = mapped_column(str_enum(KeywordKind))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
