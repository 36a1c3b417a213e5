"""Campaigns: one message to many contacts, its variants (A/B), drip steps and drip progress.

A campaign's messages are ordinary rows of ``messages`` carrying ``campaign_id``,
``campaign_round`` (the recurring run or drip step) and ``variant_id``; its figures are
always counted from them, never kept here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from herald.contact.eligibility import Purpose
from herald.contact.models import ChannelKind
from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum, utcnow


class CampaignMode(StrEnum):
    broadcast = "broadcast"
    """Every recipient gets one message per run."""
    drip = "drip"
    """Each enrolled contact walks through the steps, each after its own delay."""


class CampaignStatus(StrEnum):
    """draft → scheduled → running → completed; paused, cancelled and failed on the side."""

    draft = "draft"
    scheduled = "scheduled"
    running = "running"
    paused = "paused"
    completed = "completed"
    cancelled = "cancelled"
    failed = "failed"


class StopReason(StrEnum):
    replied = "replied"
    clicked = "clicked"
    opted_out = "opted_out"
    completed = "completed"


class Campaign(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    __tablename__ = "campaigns"
    __audited__ = frozenset(
        {
            "name",
            "kind",
            "channel_id",
            "sender_pool_id",
            "purpose",
            "mode",
            "status",
            "status_reason",
            "schedule",
            "target_url",
            "discount_code",
        }
    )
    """The audience is left out: it can list contacts and numbers."""
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_campaigns_tenant_id_id"),
        ForeignKeyConstraint(
            ["tenant_id", "channel_id"],
            ["channels.tenant_id", "channels.id"],
            name="fk_campaigns_channel",
            ondelete="RESTRICT",
        ),
        CheckConstraint("channel_id IS NULL OR sender_pool_id IS NULL", name="one_sender"),
        Index("ix_campaigns_tenant_id_status_id", "tenant_id", "status", "id"),
        Index(
            "ix_campaigns_next_run_at",
            "next_run_at",
            postgresql_where=text("next_run_at IS NOT NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))
    channel_id: Mapped[UUID | None]
    """Same-tenant foreign key (``fk_campaigns_channel``); or ``sender_pool_id``, not both."""
    sender_pool_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("sender_pools.id", ondelete="RESTRICT")
    )
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose), default=Purpose.marketing)
    mode: Mapped[CampaignMode] = mapped_column(
        str_enum(CampaignMode), default=CampaignMode.broadcast
    )
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus), default=CampaignStatus.draft
    )
    status_reason: Mapped[str | None] = mapped_column(String(100))
    """Why it is paused or failed: ``tenant_paused``, ``daily_budget_reached``…"""

    audience: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """One of ``all``, ``segment_id``, ``tags``, ``contact_ids`` or ``phones``."""
    exclusions: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """``segment_ids``, ``tags``, ``received_campaign_within_days``."""
    target_url: Mapped[str | None] = mapped_column(String(2048))
    discount_code: Mapped[str | None] = mapped_column(String(100))

    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    """``{"type": "now" | "at" | "local" | "recurring", …}``."""
    next_run_at: Mapped[datetime | None]
    """When the scheduler launches the next run (NULL: nothing due)."""
    run_count: Mapped[int] = mapped_column(default=0, server_default="0")
    ab: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    """Automatic winner: ``test_share`` percent, ``metric`` clicks|replies,
    ``decide_after_minutes``, then ``winner_variant_id`` and ``decided_at`` once decided."""
    quiet_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    """Overrides the tenant's quiet hours: ``{"start": "09:00", "end": "20:00"}``."""
    frequency_cap: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    """Overrides the tenant's cap: ``{"max_messages": N, "window_days": D}``."""

    launched_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(100))


class _Content:
    """What one message says: a body, a saved SMS template, or a WhatsApp template."""

    body: Mapped[str | None] = mapped_column(Text)
    template_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("templates.id", ondelete="RESTRICT")
    )
    whatsapp_template_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("whatsapp_templates.id", ondelete="RESTRICT")
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """Variables for the template, or the WhatsApp template's parameters."""


def _campaign_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "campaign_id"],
        ["campaigns.tenant_id", "campaigns.id"],
        name=f"fk_{table}_campaign",
        ondelete="CASCADE",
    )


class CampaignVariant(IdMixin, TenantScopedMixin, _Content, Base):
    """One version of the message (A to E); a campaign without a test has exactly one."""

    __tablename__ = "campaign_variants"
    __audited__ = frozenset(
        {"label", "share_percent", "position", "template_id", "whatsapp_template_id"}
    )
    __table_args__ = (
        _campaign_fk("campaign_variants"),
        UniqueConstraint("campaign_id", "label"),
        CheckConstraint("share_percent BETWEEN 0 AND 100", name="share_percent"),
    )

    campaign_id: Mapped[UUID]
    label: Mapped[str] = mapped_column(String(1))
    share_percent: Mapped[int] = mapped_column(default=100)
    position: Mapped[int] = mapped_column(default=0)


class CampaignStep(IdMixin, TenantScopedMixin, _Content, Base):
    """A drip step: sent ``delay_minutes`` after the contact's previous step (or enrolment)."""

    __tablename__ = "campaign_steps"
    __audited__ = frozenset({"position", "delay_minutes", "template_id", "whatsapp_template_id"})
    __table_args__ = (
        _campaign_fk("campaign_steps"),
        UniqueConstraint("campaign_id", "position"),
        CheckConstraint("delay_minutes >= 0", name="delay_minutes"),
    )

    campaign_id: Mapped[UUID]
    position: Mapped[int]
    delay_minutes: Mapped[int] = mapped_column(default=0)


class CampaignEnrollment(TenantScopedMixin, Base):
    """A contact's progress through a drip campaign (one row per contact)."""

    __tablename__ = "campaign_enrollments"
    __audited__ = False
    """Per-contact progress, written by the sweep: the campaign is what is audited."""
    __table_args__ = (
        _campaign_fk("campaign_enrollments"),
        Index(
            "ix_campaign_enrollments_next_step_at",
            "next_step_at",
            postgresql_where=text("stopped_reason IS NULL"),
        ),
    )

    campaign_id: Mapped[UUID] = mapped_column(primary_key=True)
    contact_id: Mapped[UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    step_position: Mapped[int] = mapped_column(default=0)
    """The next step to send."""
    next_step_at: Mapped[datetime | None]
    stopped_reason: Mapped[StopReason | None] = mapped_column(str_enum(StopReason))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=text("now()"), onupdate=utcnow
    )
