from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.context import Role
from herald.kit.models import (
    Base,
    IdMixin,
    TenantScopedMixin,
    TimestampMixin,
    str_enum,
    utcnow,
)


class ApiKey(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    """A machine credential for one tenant. Only a SHA-256 digest of the key is stored: keys
    carry 256 random bits, so a slow hash (argon2) would add latency to every call and no safety.
    """

    __tablename__ = "api_keys"
    __audited__ = frozenset(
        {"name", "prefix", "key_hash", "role", "created_by", "expires_at", "revoked_at"}
    )

    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.admin)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RefreshToken(IdMixin, TenantScopedMixin, Base):
    """One link of a refresh-token chain. Each refresh marks the presented token used and issues
    the next one in the same ``family_id``; a used token presented again means it was stolen,
    so the whole family is revoked. Only the SHA-256 digest of the token is stored."""

    __tablename__ = "refresh_tokens"
    __audited__ = False
    """Sign-in credentials, written outside requests; sign-ins are logged as events."""

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class MagicLinkToken(IdMixin, Base):
    """A single-use sign-in link sent by email (digest only). ``tenant_id`` is the tenant asked
    for when the link was requested; none means the user's oldest membership."""

    __tablename__ = "magic_link_tokens"
    __audited__ = False
    """Single-use sign-in credentials, written outside requests."""

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
