"""The budget's API shapes. Amounts are integers in micro-units of the tenant's currency
(1 USD = 1,000,000), like the wallet's."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from herald.budget.models import BudgetStatus

MAX_LIMIT = 10**15
"""A billion units of a currency: larger limits are typing mistakes."""


class BudgetRead(BaseModel):
    currency: str
    timezone: str
    """The zone whose midnight and 1st reset the budget (the tenant's)."""
    daily_limit: int | None
    monthly_limit: int | None
    daily_spent: int
    monthly_spent: int
    daily_resets_at: datetime
    monthly_resets_at: datetime
    status: BudgetStatus
    """``daily_budget_reached`` / ``monthly_budget_reached`` while sends are held back until
    ``held_until`` (the reset), or until the limit is raised."""
    held_until: datetime | None


class BudgetUpdate(BaseModel):
    """Both limits, each in micro-units; ``null`` removes a limit."""

    model_config = ConfigDict(extra="forbid")

    daily_limit: int | None = Field(
        ge=0, le=MAX_LIMIT, description="Micro-units a local day's sends may cost; null: none."
    )
    monthly_limit: int | None = Field(
        ge=0, le=MAX_LIMIT, description="Micro-units a local month's sends may cost; null: none."
    )
