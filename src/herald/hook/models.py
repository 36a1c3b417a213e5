"""Provider callbacks as they arrived, and how many were refused per channel.

One row per accepted callback, not per event: the signature covers the whole body, so the
body is the unit that was verified and the one to keep. A WhatsApp callback carrying several
statuses is one row listing their event ids; its ``dedupe_key`` is the single event id, or a
hash of the sorted ids when there are several (Meta retries the same body, so the same key).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, IdMixin, utcnow


class WebhookEvent(IdMixin, Base):
    __tablename__ = "webhook_events"
    __audited__ = False
    """Written by providers at a high rate, a log in itself: the audit log skips it."""
    __table_args__ = (
        UniqueConstraint("channel_id", "dedupe_key"),
        Index(
            "ix_webhook_events_due",
            "next_attempt_at",
            postgresql_where=text("processed_at IS NULL"),
        ),
        Index("ix_webhook_events_received_at", "received_at"),
        Index("ix_webhook_events_tenant_id_channel_id", "tenant_id", "channel_id"),
    )

    tenant_id: Mapped[UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    """Row-level security scopes it; not indexed alone (the (tenant, channel) index starts
    with it). Taken from the channel the callback's URL names, never from the payload."""
    channel_id: Mapped[UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    event_ids: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    content_type: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When the processor may take it (again): a parked receipt waits here with back-off."""
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))


class WebhookRejection(Base):
    """Callbacks refused for a bad or missing signature, counted per channel (never stored)."""

    __tablename__ = "webhook_rejections"
    __audited__ = False
    __table_args__ = (Index("ix_webhook_rejections_tenant_id", "tenant_id"),)

    channel_id: Mapped[UUID] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
