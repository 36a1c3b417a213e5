"""One table for every message, either way, and an append-only event per state change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from herald.contact.eligibility import Purpose
from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum, utcnow


class Direction(StrEnum):
    outbound = "outbound"
    inbound = "inbound"


class MessageStatus(StrEnum):
    """Forward only: queued → sending → sent → delivered → read; failed, undelivered and unknown
    end a message. ``unknown``: claimed and handed to the provider, the outcome never learned;
    such a message is reconciled, never resent blindly."""

    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"
    undelivered = "undelivered"
    unknown = "unknown"
    received = "received"
    """An inbound message."""


class Message(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    __tablename__ = "messages"
    __audited__ = False
    """Its own log (statuses, times, events): the audit log's flush listener skips it."""
    __personal_data__ = frozenset({"to_address", "from_address", "body", "template"})
    __table_args__ = (
        Index(
            "uq_messages_tenant_id_idempotency_key",
            "tenant_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        UniqueConstraint("tenant_id", "contact_id", "campaign_id", "campaign_round"),
        # Also the index of a contact's messages (history, inbox, erasure): see migration 0023.
        Index("ix_messages_tenant_id_campaign_id_status", "tenant_id", "campaign_id", "status"),
        Index(
            "ix_messages_due",
            "next_attempt_at",
            postgresql_where=text("status = 'queued'"),
        ),
        Index("ix_messages_tenant_id_created_at", "tenant_id", "created_at"),
        Index(
            "ix_messages_channel_id_provider_message_id",
            "channel_id",
            "provider_message_id",
            # a launched message (queued, no provider id yet) enters it only once claimed: 0025
            postgresql_where=text("provider_message_id IS NOT NULL OR status <> 'queued'"),
        ),
    )

    tenant_id: Mapped[UUID] = mapped_column()
    """Not indexed alone: the indexes above start with it where a tenant reads. No foreign
    key on this table (a launch writes a million rows; see migration 0023): the writers take
    their ids from rows they read, and statement triggers on the other tables do what the
    keys did on delete (a tenant's messages go with it, a channel with messages stays, a
    deleted contact's messages keep no ``contact_id``)."""
    channel_id: Mapped[UUID]
    contact_id: Mapped[UUID | None]
    campaign_id: Mapped[UUID | None]
    """Campaigns are deleted only as drafts, which have no messages."""
    campaign_round: Mapped[int] = mapped_column(default=0, server_default="0")
    """A recurring campaign's run number or a drip campaign's step: one message per round."""
    variant_id: Mapped[UUID | None]
    """The campaign variant it carries; variants are only replaced while their campaign is a
    draft, without messages."""
    direction: Mapped[Direction] = mapped_column(str_enum(Direction), default=Direction.outbound)
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose), default=Purpose.transactional)
    to_address: Mapped[str | None] = mapped_column(String(32))
    from_address: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(Text)
    template: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    """A WhatsApp template message: name, language and parameters (or the components sent)."""
    encoding: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[int | None]
    cost_micros: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))

    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus), default=MessageStatus.queued
    )
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When the message is due (a retry's back-off, a campaign's quiet hours)."""
    idempotency_key: Mapped[str | None] = mapped_column(String(200))

    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sending_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]


class EventType(StrEnum):
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"
    clicked = "clicked"
    replied = "replied"
    opt_out = "opt_out"
    resubscribe = "resubscribe"


class MessageEvent(IdMixin, TenantScopedMixin, Base):
    """Append-only: every state change of a message (analytics and outbound webhooks read it)."""

    __tablename__ = "events"
    __audited__ = False
    """Append-only and high-volume, it is a log itself: the audit log skips it."""
    __table_args__ = (
        Index("ix_events_tenant_id_occurred_at", "tenant_id", "occurred_at"),
        Index("ix_events_message_id", "message_id"),
        Index(
            "ix_events_campaign_id_type",
            "campaign_id",
            "type",
            postgresql_where=text("campaign_id IS NOT NULL"),
        ),
    )

    tenant_id: Mapped[UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    type: Mapped[EventType] = mapped_column(str_enum(EventType))
    message_id: Mapped[UUID | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    contact_id: Mapped[UUID | None]
    campaign_id: Mapped[UUID | None]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
