"""Budgets: limits set by an admin, spent by the dispatcher in the transaction that reserves
the wallet, read by people and by the campaign automation.

A send that would take a period past its limit is not sent and not lost: the dispatcher leaves
it queued until the period's reset (``Spent.reached_until``). Raising or removing a limit
releases the held messages at once.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.budget.models import Budget, BudgetStatus
from herald.budget.repository import BudgetRepository, Periods
from herald.budget.schemas import BudgetRead, BudgetUpdate
from herald.tenant.service import get_tenant

__all__ = [
    "Allowance",
    "BudgetStatus",
    "give_back",
    "reached_budgets",
    "read_budget",
    "set_budget",
    "spend",
]


@dataclass(frozen=True, slots=True)
class Allowance:
    """How many sends of a batch, from the first, the budget lets through; the rest wait for
    ``until`` (the reset of the ``held`` limit)."""

    count: int
    held: BudgetStatus | None
    until: datetime | None


async def spend(
    session: AsyncSession, tenant_id: UUID, costs: Sequence[int], now: datetime
) -> Allowance | None:
    """Spend the tenant's budget on ``costs`` (positive micro-units, in send order) in one
    statement. ``None``: the tenant has no budget, nothing is counted."""
    runs = list(accumulate(costs))
    spent = await BudgetRepository(session).spend(tenant_id, runs, now) if runs else None
    if spent is None:
        return None
    count = bisect_right(runs, spent.granted)
    if count == len(runs):
        return Allowance(count, None, None)
    return Allowance(count, spent.reached, spent.reached_until)


async def give_back(session: AsyncSession, tenant_id: UUID, amount: int) -> None:
    """Undo part of a spend in the same transaction (the wallet then refused those sends)."""
    if amount > 0:
        await BudgetRepository(session).give_back(tenant_id, amount)


async def read_budget(session: AsyncSession, tenant_id: UUID, now: datetime) -> BudgetRead:
    tenant = await get_tenant(session, tenant_id)
    repo = BudgetRepository(session)
    periods = await repo.periods(tenant_id, now)
    budget = await repo.get(tenant_id)
    if budget is None:
        budget = Budget(tenant_id=tenant_id, currency=tenant.currency, day_spent=0, month_spent=0)
    return _view(budget, tenant.timezone, periods, now)


async def set_budget(
    session: AsyncSession, tenant_id: UUID, data: BudgetUpdate, now: datetime
) -> BudgetRead:
    """Set both limits (audited by the request's session). A new budget starts from what the
    ledger already charged this day and month, so setting one mid-day counts the morning's
    sends. Any change lifts a reached state and releases the held messages: the next batch
    spends against the new limits and holds again what still does not fit."""
    tenant = await get_tenant(session, tenant_id)
    repo = BudgetRepository(session)
    periods = await repo.periods(tenant_id, now)
    await repo.release_held(tenant_id, now)  # messages first, then the budget: the claim's order
    budget = await repo.get(tenant_id)
    if budget is None:
        day, month = await repo.spent_since(tenant_id, periods)
        budget = Budget(
            tenant_id=tenant_id,
            currency=tenant.currency,
            day_start=periods.day_start,
            day_spent=day,
            month_start=periods.month_start,
            month_spent=month,
            last_grant=0,
        )
        repo.add(budget)
    budget.daily_limit, budget.monthly_limit = data.daily_limit, data.monthly_limit
    budget.reached = budget.reached_until = None
    await session.flush()
    return _view(budget, tenant.timezone, periods, now)


async def reached_budgets(session: AsyncSession, now: datetime) -> dict[UUID, BudgetStatus]:
    """Every tenant whose budget holds sends back now, with which limit (run it in a system
    session: it spans tenants)."""
    return dict(await BudgetRepository(session).reached(now))


def _view(budget: Budget, timezone: str, periods: Periods, now: datetime) -> BudgetRead:
    until = budget.reached_until
    reached = budget.reached if until is not None and until > now else None
    return BudgetRead(
        currency=budget.currency,
        timezone=timezone,
        daily_limit=budget.daily_limit,
        monthly_limit=budget.monthly_limit,
        daily_spent=budget.day_spent if budget.day_start == periods.day_start else 0,
        monthly_spent=budget.month_spent if budget.month_start == periods.month_start else 0,
        daily_resets_at=periods.day_end,
        monthly_resets_at=periods.month_end,
        status=reached or BudgetStatus.ok,
        held_until=until if reached else None,
    )
