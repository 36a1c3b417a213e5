"""WhatsApp message templates: the content, Meta's review status and its history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKeyConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum


class TemplateCategory(StrEnum):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class ParameterFormat(StrEnum):
    POSITIONAL = "POSITIONAL"
    NAMED = "NAMED"


class TemplateStatus(StrEnum):
    """Meta's review states, plus DRAFT (never submitted). ARCHIVED and DELETED mirror what Meta
    reports for templates archived for disuse or deleted at the account."""

    DRAFT = "DRAFT"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    IN_APPEAL = "IN_APPEAL"
    ARCHIVED = "ARCHIVED"
    DELETED = "DELETED"


class QualityRating(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"
    UNKNOWN = "UNKNOWN"


class WhatsAppTemplate(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    __tablename__ = "whatsapp_templates"
    __audited__ = frozenset(
        {
            "channel_id",
            "name",
            "language",
            "category",
            "parameter_format",
            "components",
            "status",
            "rejection_reason",
            "quality_rating",
            "meta_template_id",
        }
    )
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "channel_id", "name", "language", postgresql_nulls_not_distinct=True
        ),
        Index("ix_whatsapp_templates_tenant_id_status", "tenant_id", "status"),
        # The channel must be the tenant's own (a foreign key checks no row-level policy);
        # deleting the channel keeps the template, unbound. Created with the channels (0016).
        ForeignKeyConstraint(
            ["tenant_id", "channel_id"],
            ["channels.tenant_id", "channels.id"],
            name="fk_whatsapp_templates_channel",
            ondelete="SET NULL (channel_id)",
        ),
        Index(
            "ix_whatsapp_templates_meta_template_id",
            "meta_template_id",
            postgresql_where=text("meta_template_id IS NOT NULL"),
        ),
    )

    channel_id: Mapped[UUID | None]
    """The WhatsApp channel (business account) the template belongs to; NULL until one is
    chosen. No foreign key yet: the channels table comes later."""
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(15))
    category: Mapped[TemplateCategory] = mapped_column(str_enum(TemplateCategory))
    parameter_format: Mapped[ParameterFormat] = mapped_column(str_enum(ParameterFormat))
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """Meta's authoring format, validated by ``herald.whatsapp.templates.validate`` on write."""
    status: Mapped[TemplateStatus] = mapped_column(str_enum(TemplateStatus))
    rejection_reason: Mapped[str | None] = mapped_column(String(1000))
    quality_rating: Mapped[QualityRating] = mapped_column(str_enum(QualityRating))
    meta_template_id: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    status_changed_at: Mapped[datetime | None]
    status_history: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """The latest status changes, oldest first: ``{from, to, at, source, reason}``."""
