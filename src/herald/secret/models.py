from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.crypto import EncryptedString
from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, utcnow


class TenantSecret(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    """A named credential of one tenant (a provider token, a webhook signing key), encrypted at
    rest. ``value`` is deferred: listing secrets never decrypts them."""

    __tablename__ = "tenant_secrets"
    __audited__ = frozenset({"name", "description", "value", "last_rotated_at"})
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    value: Mapped[str] = mapped_column(EncryptedString(), deferred=True)
    last_rotated_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When the value was last replaced (a description change does not count)."""
