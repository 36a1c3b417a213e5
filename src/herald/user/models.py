from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.context import Role
from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum


class User(IdMixin, TimestampMixin, Base):
    """A person who signs in. Global: one user may be a member of several tenants."""

    __tablename__ = "users"
    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Stored lower-cased, so uniqueness is case-insensitive."""
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_login_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class Membership(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    __tablename__ = "memberships"
    __audited__ = frozenset({"user_id", "role"})
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))


class Invitation(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    """An emailed offer to join a tenant with a role. Single use; only the token's digest is
    stored."""

    __tablename__ = "invitations"
    __audited__ = frozenset(
        {"email", "role", "token_hash", "invited_by", "expires_at", "accepted_at"}
    )
    __personal_data__ = frozenset({"email"})

    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
