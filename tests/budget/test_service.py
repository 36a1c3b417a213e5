"""Budget spending at the service level, with explicit clocks: the prefix of a batch a budget
lets through, the resets at the tenant's local midnight and 1st (across a DST change), and
giving back what the wallet then refused."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from herald.budget import service
from herald.budget.models import BudgetStatus
from herald.budget.schemas import BudgetRead, BudgetUpdate
from herald.budget.service import Allowance
from herald.kit.database import Database
from herald.wallet.service import reserve
from tests.conftest import MakeTenant

NEW_YORK = "America/New_York"
SATURDAY_LATE = datetime(2026, 3, 8, 4, 30, tzinfo=UTC)
"""23:30 on Saturday 7 March in New York (EST); clocks go forward at 02:00 on Sunday."""
SUNDAY_EARLY = datetime(2026, 3, 8, 5, 10, tzinfo=UTC)
"""00:10 on Sunday 8 March in New York: a new local day, the same month."""


async def _set(db: Database, tenant_id: UUID, now: datetime, **limits: int | None) -> BudgetRead:
    data = BudgetUpdate(daily_limit=limits.get("daily"), monthly_limit=limits.get("monthly"))
    async with db.tenant_session(tenant_id) as session:
        return await service.set_budget(session, tenant_id, data, now)


async def _spend(
    db: Database, tenant_id: UUID, costs: list[int], now: datetime
) -> Allowance | None:
    async with db.system_session() as session:
        return await service.spend(session, tenant_id, costs, now)


async def _read(db: Database, tenant_id: UUID, now: datetime) -> BudgetRead:
    async with db.tenant_session(tenant_id) as session:
        return await service.read_budget(session, tenant_id, now)


async def test_no_budget_counts_nothing_and_lets_everything_through(
    db: Database, make_tenant: MakeTenant
) -> None:
    shop = await make_tenant()
    assert await _spend(db, shop.id, [10, 20], SATURDAY_LATE) is None
    view = await _read(db, shop.id, SATURDAY_LATE)
    assert view.status is BudgetStatus.ok and view.daily_limit is None and view.daily_spent == 0


async def test_the_longest_fitting_prefix_goes_and_the_daily_limit_holds_the_rest(
    db: Database, make_tenant: MakeTenant
) -> None:
    shop = await make_tenant(timezone=NEW_YORK)
    await _set(db, shop.id, SATURDAY_LATE, daily=100, monthly=1_000)

    allowance = await _spend(db, shop.id, [40, 40, 40, 10], SATURDAY_LATE)

    midnight = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert allowance == Allowance(2, BudgetStatus.daily_budget_reached, midnight)
    view = await _read(db, shop.id, SATURDAY_LATE)
    assert (view.daily_spent, view.monthly_spent) == (80, 80)
    assert view.status is BudgetStatus.daily_budget_reached and view.held_until == midnight
    assert view.daily_resets_at == midnight


async def test_the_day_resets_at_local_midnight_and_the_month_keeps_counting(
    db: Database, make_tenant: MakeTenant
) -> None:
    shop = await make_tenant(timezone=NEW_YORK)
    await _set(db, shop.id, SATURDAY_LATE, daily=100, monthly=1_000)
    await _spend(db, shop.id, [90], SATURDAY_LATE)
    assert await _spend(db, shop.id, [20], SATURDAY_LATE) == Allowance(
        0, BudgetStatus.daily_budget_reached, datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    )

    assert await _spend(db, shop.id, [20, 30], SUNDAY_EARLY) == Allowance(2, None, None)

    view = await _read(db, shop.id, SUNDAY_EARLY)
    assert (view.daily_spent, view.monthly_spent) == (50, 140)
    assert view.status is BudgetStatus.ok
    # Sunday has 23 hours in New York: the next reset is 00:00 EDT, 04:00 UTC.
    assert view.daily_resets_at == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    assert view.monthly_resets_at == datetime(2026, 4, 1, 4, 0, tzinfo=UTC)


async def test_the_monthly_limit_holds_until_the_first(
    db: Database, make_tenant: MakeTenant
) -> None:
    shop = await make_tenant(timezone=NEW_YORK)
    await _set(db, shop.id, SATURDAY_LATE, daily=None, monthly=100)

    allowance = await _spend(db, shop.id, [60, 60], SATURDAY_LATE)

    first_of_april = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)
    assert allowance == Allowance(1, BudgetStatus.monthly_budget_reached, first_of_april)
    assert (await _read(db, shop.id, SUNDAY_EARLY)).status is BudgetStatus.monthly_budget_reached
    april = datetime(2026, 4, 1, 4, 30, tzinfo=UTC)
    assert await _spend(db, shop.id, [60], april) == Allowance(1, None, None)
    view = await _read(db, shop.id, april)
    assert view.status is BudgetStatus.ok and view.monthly_spent == 60


async def test_raising_the_limit_lifts_the_reached_state_and_giving_back_frees_room(
    db: Database, make_tenant: MakeTenant
) -> None:
    shop = await make_tenant()
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    await _set(db, shop.id, now, daily=50)
    await _spend(db, shop.id, [30, 30], now)
    async with db.system_session() as session:
        await service.give_back(session, shop.id, 30)
    assert (await _read(db, shop.id, now)).daily_spent == 0

    view = await _set(db, shop.id, now, daily=500)

    assert view.status is BudgetStatus.ok and view.daily_limit == 500
    assert await _spend(db, shop.id, [400], now) == Allowance(1, None, None)


async def test_a_budget_set_mid_day_counts_what_the_ledger_already_charged(
    db: Database, make_tenant: MakeTenant
) -> None:
    shop = await make_tenant()
    async with db.system_session() as session:
        await reserve(
            session,
            shop.id,
            7_000,
            reference_type="message",
            reference_id=shop.id,
            idempotency_key="early",
        )
    view = await _set(db, shop.id, datetime.now(UTC), daily=10_000)
    assert view.daily_spent == 7_000 and view.monthly_spent == 7_000
