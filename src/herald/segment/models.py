"""Segments (rules as JSON, compiled to SQL on use) and their materialized memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from herald.contact.models import Contact
from herald.kit.models import PERSONAL, Base, IdMixin, TenantScopedMixin, TimestampMixin, utcnow


def rules_without_values(node: Any) -> Any:
    """Rules as the audit log keeps them: groups, fields and operators, and ``PERSONAL`` for
    every value compared (a condition may name a person: ``email eq jane@…``)."""
    if isinstance(node, dict):
        return {k: PERSONAL if k == "value" else rules_without_values(v) for k, v in node.items()}
    if isinstance(node, list):
        return [rules_without_values(child) for child in node]
    return node


def preset_without_value(preset: str) -> str:
    """``tag:vip`` → ``tag:[personal data]``: a preset's argument is a compared value too."""
    kind, sep, _value = preset.partition(":")
    return f"{kind}:{PERSONAL}" if sep else preset


class Segment(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    __tablename__ = "segments"
    __audited__ = frozenset({"name", "description", "rules", "preset"})
    __audit_masks__ = {"rules": rules_without_values, "preset": preset_without_value}
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    rules: Mapped[dict[str, Any]] = mapped_column(JSONB)
    """Validated by ``herald.segment.compiler.parse_rules`` on every write."""
    preset: Mapped[str | None] = mapped_column(String(200))
    """The shortcut the rules were expanded from (``female``, ``tag:vip``…), if any."""
    member_count: Mapped[int | None]
    """Members at the last refresh; NULL until the first one."""
    refreshed_at: Mapped[datetime | None]


class SegmentMembership(TenantScopedMixin, Base):
    """A contact matching a segment at its last refresh (campaigns re-evaluate the rules)."""

    __tablename__ = "segment_memberships"
    __audited__ = False
    """Derived from the rules at each refresh."""
    __table_args__ = (Index("ix_segment_memberships_contact_id", "contact_id"),)

    segment_id: Mapped[UUID] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


Index(
    "ix_contacts_tenant_id_sms_status_created_at",
    Contact.tenant_id,
    Contact.sms_status,
    Contact.created_at,
    postgresql_include=["tags"],
    postgresql_where=Contact.erased_at.is_(None),
)
"""Consent + recency + tags, the shape of most marketing segments, answered from the index
alone. Row-level security keeps non-leakproof operators such as the array ``&&`` out of index
conditions for the app role, so the GIN index on tags cannot serve a tenant-scoped query:
including ``tags`` here lets the tag test run on index tuples instead of heap rows."""
