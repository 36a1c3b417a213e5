"""Message templates: a tenant's own, Herald's shared library, and who used which library entry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from herald.contact.eligibility import Purpose
from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum, utcnow


class TemplateKind(StrEnum):
    """What a template renders to; only plain SMS text for now."""

    sms = "sms"


class LibraryTemplate(IdMixin, TimestampMixin, Base):
    """A ready-made template every tenant can read and copy (not tenant-scoped; the app role
    may only read it and bump ``use_count`` through ``count_library_template_use``)."""

    __tablename__ = "template_library"
    __table_args__ = (Index("ix_template_library_category_name", "category", "name"),)

    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(50))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose))
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    use_count: Mapped[int] = mapped_column(default=0, server_default="0")
    """Copies made by all tenants together."""


class Template(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    __tablename__ = "templates"
    __audited__ = frozenset(
        {"name", "body", "kind", "purpose", "language", "category", "tags", "variables"}
    )
    """Usage counters are left out."""
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("char_length(body) <= 5000", name="body_length"),
    )

    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[TemplateKind] = mapped_column(
        str_enum(TemplateKind), default=TemplateKind.sms, server_default="sms"
    )
    purpose: Mapped[Purpose] = mapped_column(
        str_enum(Purpose), default=Purpose.marketing, server_default="marketing"
    )
    language: Mapped[str | None] = mapped_column(String(16))
    """NULL: the tenant's default language."""
    category: Mapped[str | None] = mapped_column(String(50))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    variables: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    """The variables the body reads, found when it was saved."""
    library_template_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("template_library.id", ondelete="SET NULL")
    )
    use_count: Mapped[int] = mapped_column(default=0, server_default="0")
    """Messages composed from this template (campaigns count them through ``record_use``)."""
    last_used_at: Mapped[datetime | None]


class TemplateUsage(TenantScopedMixin, Base):
    """How often one tenant copied one library template, and when last."""

    __tablename__ = "template_usages"
    __audited__ = False
    """A usage counter."""

    library_template_id: Mapped[UUID] = mapped_column(
        ForeignKey("template_library.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    used_count: Mapped[int] = mapped_column(default=0, server_default="0")
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
