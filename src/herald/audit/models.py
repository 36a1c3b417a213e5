from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, IdMixin, TenantScopedMixin, utcnow


class AuditEntry(IdMixin, TenantScopedMixin, Base):
    """Who changed what, when and from where. Append-only: the app role may not update or
    delete these rows. No foreign keys to the actor, so entries outlive revoked keys and
    departed users."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_tenant_id_resource", "tenant_id", "resource_type", "resource_id"),
    )

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[UUID | None]
    actor_api_key_id: Mapped[UUID | None]
    action: Mapped[str] = mapped_column(String(100))
    """``<resource>.created|updated|deleted``, or a bulk action such as ``contact.imported``."""
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """Field → ``{"old": …, "new": …}``; secrets appear as ``"[redacted]"``."""
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    request_id: Mapped[str | None] = mapped_column(String(128))

    @property
    def actor(self) -> str | None:
        if self.actor_user_id:
            return f"user:{self.actor_user_id}"
        return f"api_key:{self.actor_api_key_id}" if self.actor_api_key_id else None


Index(
    "ix_audit_log_tenant_id_created_at",
    AuditEntry.tenant_id,
    AuditEntry.created_at.desc(),
    AuditEntry.id.desc(),
)
