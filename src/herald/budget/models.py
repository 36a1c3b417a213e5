"""A tenant's spending budgets: a daily and a monthly ceiling on what sends may cost, in
micro-units of the tenant's currency (the wallet's unit), with what the current day and month
have spent so far.

The counters live on the budget's one row, next to the period they count (``day_start``,
``month_start``: local midnight and the local 1st, in the tenant's zone, as UTC instants). A
spend that finds a stale period starts it again from zero, so nothing has to reset them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum


class BudgetStatus(StrEnum):
    """Whether the budget lets sends through; a reached one holds them until its reset."""

    ok = "ok"
    daily_budget_reached = "daily_budget_reached"
    monthly_budget_reached = "monthly_budget_reached"


class Budget(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    """One per tenant, made when a limit is first set. A limit left empty is no limit."""

    __tablename__ = "budgets"
    __audited__ = frozenset({"currency", "daily_limit", "monthly_limit"})
    """The spend counters are bookkeeping, changed by every batch."""
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("daily_limit IS NULL OR daily_limit >= 0", name="daily_limit_sign"),
        CheckConstraint("monthly_limit IS NULL OR monthly_limit >= 0", name="monthly_limit_sign"),
    )

    currency: Mapped[str] = mapped_column(String(3))
    daily_limit: Mapped[int | None] = mapped_column(BigInteger)
    monthly_limit: Mapped[int | None] = mapped_column(BigInteger)
    day_start: Mapped[datetime | None]
    day_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    month_start: Mapped[datetime | None]
    month_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    last_grant: Mapped[int] = mapped_column(BigInteger, default=0)
    """What the latest spend let through (the statement's answer, as ``RETURNING`` cannot
    show a value from before the update)."""
    reached: Mapped[BudgetStatus | None] = mapped_column(str_enum(BudgetStatus, 30))
    """Set when a send was held back for a limit; it stands until ``reached_until``."""
    reached_until: Mapped[datetime | None]
