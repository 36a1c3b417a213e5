"""A channel is a tenant's configured sender on a provider; its kind is the medium."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.contact.models import ChannelKind
from herald.kit.crypto import EncryptedJSON
from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum


class ChannelStatus(StrEnum):
    active = "active"
    paused = "paused"
    """Stopped by a person; nothing is sent until resumed."""
    failing = "failing"
    """The circuit breaker is open: the provider kept failing; probed before it resumes."""


class Channel(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    """A sender account: an SMS number or alphanumeric sender ID, or a WhatsApp phone number of
    a business account, on one provider (``herald.providers.registry.PROVIDERS``)."""

    __tablename__ = "channels"
    __audited__ = frozenset(
        {
            "kind",
            "provider",
            "name",
            "sender",
            "config",
            "waba_id",
            "phone_number_id",
            "display_name",
            "rate_per_second",
            "rate_per_minute",
            "rate_per_day",
            "warmup_started_on",
            "warmup_initial",
            "status",
            "status_reason",
        }
    )
    """Settings and status; the health counters the send path keeps are left out."""
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "id", name="uq_channels_tenant_id_id"),
        Index("ix_channels_provider_phone_number_id", "provider", "phone_number_id"),
    )

    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))
    provider: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    sender: Mapped[str] = mapped_column(String(32))
    """E.164 number or alphanumeric sender ID (SMS); the display number (WhatsApp)."""
    config: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    """The provider's config (credentials, api_base_url…), encrypted at rest, never returned."""

    waba_id: Mapped[str | None] = mapped_column(String(64))
    phone_number_id: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    quality_rating: Mapped[str | None] = mapped_column(String(16))
    messaging_tier: Mapped[str | None] = mapped_column(String(32))

    rate_per_second: Mapped[int] = mapped_column(default=1)
    rate_per_minute: Mapped[int | None]
    rate_per_day: Mapped[int | None]
    warmup_started_on: Mapped[date | None]
    """From this day the daily cap starts at ``warmup_initial`` and doubles daily up to the cap."""
    warmup_initial: Mapped[int] = mapped_column(default=50)

    status: Mapped[ChannelStatus] = mapped_column(
        str_enum(ChannelStatus), default=ChannelStatus.active
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    probe_after: Mapped[datetime | None]
    """While failing: when the circuit breaker lets one probe through."""


class SenderPool(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    """Several channels of one kind behind one campaign; a contact keeps its first sender."""

    __tablename__ = "sender_pools"
    __audited__ = frozenset({"name", "kind"})
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))


class SenderPoolMember(TenantScopedMixin, Base):
    __tablename__ = "sender_pool_members"
    __audited__ = False
    """Set with SQL as a pool's list of channels, which the flush listener does not see."""

    pool_id: Mapped[UUID] = mapped_column(
        ForeignKey("sender_pools.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[UUID] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )


class StickySender(TenantScopedMixin, Base):
    """The channel a contact was first reached on through a pool (sticky sender)."""

    __tablename__ = "sticky_senders"
    __audited__ = False
    """Which sender last wrote to a contact: bookkeeping of the send path."""

    pool_id: Mapped[UUID] = mapped_column(
        ForeignKey("sender_pools.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
