from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, IdMixin, TimestampMixin, str_enum


class TenantStatus(StrEnum):
    active = "active"
    suspended = "suspended"


class Tenant(IdMixin, TimestampMixin, Base):
    """An account that owns contacts, channels and campaigns (a shop, a client of an agency)."""

    __tablename__ = "tenants"
    __audited__ = frozenset(
        {"name", "status", "country", "currency", "timezone", "plan", "is_paused", "settings"}
    )
    __owner_column__ = "id"
    """The audit log files changes of a tenant under the tenant itself."""

    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[TenantStatus] = mapped_column(
        str_enum(TenantStatus), default=TenantStatus.active
    )
    country: Mapped[str] = mapped_column(String(2), default="US")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    plan: Mapped[str] = mapped_column(String(40), default="free")
    is_paused: Mapped[bool] = mapped_column(default=False)
    """Kill switch: while set, nothing is sent for this tenant."""
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
