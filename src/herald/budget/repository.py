"""All SQL of budgets. Periods are computed by PostgreSQL from the tenant's zone (``AT TIME
ZONE`` on a local wall time), so local midnight and the 1st are right across DST changes and
the dispatcher and the API agree on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, text

from herald.budget.models import Budget, BudgetStatus
from herald.kit.repository import Repository

_PERIODS = """
    SELECT date_trunc('day', z.local) AT TIME ZONE z.tz AS day0,
           (date_trunc('day', z.local) + interval '1 day') AT TIME ZONE z.tz AS day1,
           date_trunc('month', z.local) AT TIME ZONE z.tz AS month0,
           (date_trunc('month', z.local) + interval '1 month') AT TIME ZONE z.tz AS month1
    FROM (SELECT t.timezone AS tz, CAST(:now AS timestamptz) AT TIME ZONE t.timezone AS local
          FROM tenants t WHERE t.id = :tenant) AS z
"""

_DAY_USED = "(CASE WHEN b.day_start = p.day0 THEN b.day_spent ELSE 0 END)"
_MONTH_USED = "(CASE WHEN b.month_start = p.month0 THEN b.month_spent ELSE 0 END)"
_ROOM = (
    f"LEAST(COALESCE(b.daily_limit - {_DAY_USED}, :unbounded),"
    f" COALESCE(b.monthly_limit - {_MONTH_USED}, :unbounded))"
)
_GRANT = (
    f"(SELECT COALESCE(max(r), 0) FROM unnest(CAST(:runs AS bigint[])) AS r WHERE r <= {_ROOM})"  # noqa: S608 - constant fragments
)
_FIRST_HELD = f"(SELECT min(r) FROM unnest(CAST(:runs AS bigint[])) AS r WHERE r > {_ROOM})"  # noqa: S608 - constant fragments
_MONTH_BINDS = f"b.monthly_limit IS NOT NULL AND {_MONTH_USED} + {_FIRST_HELD} > b.monthly_limit"

_SPEND = text(
    f"""
    WITH p AS ({_PERIODS})
    UPDATE budgets b
    SET day_spent = {_DAY_USED} + {_GRANT},
        month_spent = {_MONTH_USED} + {_GRANT},
        day_start = p.day0,
        month_start = p.month0,
        last_grant = {_GRANT},
        reached = CASE WHEN {_FIRST_HELD} IS NULL
                         THEN CASE WHEN b.reached_until > :now THEN b.reached END
                       WHEN {_MONTH_BINDS} THEN 'monthly_budget_reached'
                       ELSE 'daily_budget_reached' END,
        reached_until = CASE WHEN {_FIRST_HELD} IS NULL
                               THEN CASE WHEN b.reached_until > :now THEN b.reached_until END
                             WHEN {_MONTH_BINDS} THEN p.month1
                             ELSE p.day1 END,
        updated_at = :now
    FROM p
    WHERE b.tenant_id = :tenant
    RETURNING b.last_grant, b.reached, b.reached_until
    """  # noqa: S608 - constant fragments
)
"""One statement per tenant and batch: the row lock of the UPDATE serializes every worker
spending the tenant's budget, and each one re-reads the row it waited for, so two batches
never both take the last of a budget. ``:runs`` are the batch's running totals, in its order:
the longest prefix that fits goes through."""

_GIVE_BACK = text(
    """
    UPDATE budgets
    SET day_spent = GREATEST(day_spent - :amount, 0),
        month_spent = GREATEST(month_spent - :amount, 0)
    WHERE tenant_id = :tenant
    """
)

_PERIODS_NOW = text(_PERIODS)

_SPENT_SINCE = text(
    """
    SELECT COALESCE(-sum(amount) FILTER (WHERE created_at >= :day0), 0),
           COALESCE(-sum(amount), 0)
    FROM wallet_transactions
    WHERE tenant_id = :tenant AND kind = 'debit' AND created_at >= :month0
    """
)

_RELEASE = text(
    """
    UPDATE messages
    SET next_attempt_at = :now, updated_at = :now
    WHERE tenant_id = :tenant AND status = 'queued' AND next_attempt_at > :now
      AND error_code IN ('daily_budget_reached', 'monthly_budget_reached')
    """
)

_REACHED = text(
    """
    SELECT tenant_id, reached FROM budgets
    WHERE reached IS NOT NULL AND reached_until > :now
    """
)

UNBOUNDED = 2**62
"""Stands for "no limit" in the arithmetic of ``_SPEND``."""


@dataclass(frozen=True, slots=True)
class Periods:
    """The current day and month in the tenant's zone, and when each ends, as UTC instants."""

    day_start: datetime
    day_end: datetime
    month_start: datetime
    month_end: datetime


@dataclass(frozen=True, slots=True)
class Spent:
    """What one spend let through (micro-units), and the limit that holds sends back, if any."""

    granted: int
    reached: BudgetStatus | None
    reached_until: datetime | None


class BudgetRepository(Repository):
    async def get(self, tenant_id: UUID) -> Budget | None:
        found = await self.session.scalars(select(Budget).where(Budget.tenant_id == tenant_id))
        return found.one_or_none()

    def add(self, budget: Budget) -> None:
        self.session.add(budget)

    async def periods(self, tenant_id: UUID, now: datetime) -> Periods:
        row = (await self.session.execute(_PERIODS_NOW, {"tenant": tenant_id, "now": now})).one()
        return Periods(*row)

    async def spent_since(self, tenant_id: UUID, periods: Periods) -> tuple[int, int]:
        """What the wallet's ledger charged for sends this day and this month (debits only: a
        refund of a failed send does not give the budget back)."""
        row = await self.session.execute(
            _SPENT_SINCE,
            {"tenant": tenant_id, "day0": periods.day_start, "month0": periods.month_start},
        )
        day, month = row.one()
        return int(day), int(month)

    async def spend(self, tenant_id: UUID, runs: Sequence[int], now: datetime) -> Spent | None:
        """Spend the longest prefix of a batch whose running totals are ``runs``; ``None``
        when the tenant has no budget (nothing is counted, everything goes through)."""
        row = (
            await self.session.execute(
                _SPEND,
                {"tenant": tenant_id, "runs": list(runs), "now": now, "unbounded": UNBOUNDED},
            )
        ).one_or_none()
        if row is None:
            return None
        granted, reached, until = row
        return Spent(int(granted), BudgetStatus(reached) if reached else None, until)

    async def give_back(self, tenant_id: UUID, amount: int) -> None:
        await self.session.execute(_GIVE_BACK, {"tenant": tenant_id, "amount": amount})

    async def release_held(self, tenant_id: UUID, now: datetime) -> int:
        """Make the tenant's messages held for a budget due now."""
        result = await self.session.execute(_RELEASE, {"tenant": tenant_id, "now": now})
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def reached(self, now: datetime) -> list[tuple[UUID, BudgetStatus]]:
        """Every tenant whose budget currently holds sends back (a system session's view)."""
        rows = await self.session.execute(_REACHED, {"now": now})
        return [(row[0], BudgetStatus(row[1])) for row in rows]
