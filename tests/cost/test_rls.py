"""Row-level security of prices, with no application filter: the platform's rows and one's own
are visible, another tenant's are not; only one's own can be written. The exclusion constraint
refuses overlapping periods whoever writes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from herald.contact.models import ChannelKind
from herald.cost.models import PriceEntry, PriceUnit
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.cost.helpers import SINCE, add_price, provider


async def test_visible_rows(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    name = provider()
    platform = await add_price(db, name, "*", 1_000)
    mine = await add_price(db, name, "US", 2_000, tenant_id=tenant.id)
    await add_price(db, name, "GB", 3_000, tenant_id=other_tenant.id)
    async with db.tenant_session(tenant.id) as session:
        seen = set(
            (await session.scalars(select(PriceEntry.id).where(PriceEntry.provider == name))).all()
        )
    assert seen == {platform, mine}


async def test_writes_reach_only_own_rows(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    name = provider()
    platform = await add_price(db, name, "*", 1_000)
    mine = await add_price(db, name, "US", 2_000, tenant_id=tenant.id)
    theirs = await add_price(db, name, "GB", 3_000, tenant_id=other_tenant.id)
    async with db.tenant_session(tenant.id) as session:
        await session.execute(
            text("UPDATE prices SET unit_price_micros = 7 WHERE provider = :p"), {"p": name}
        )
        await session.execute(
            text("DELETE FROM prices WHERE provider = :p AND country <> 'US'"), {"p": name}
        )
    async with db.system_session() as session:
        rows = {
            r.id: r.unit_price_micros
            for r in await session.scalars(select(PriceEntry).where(PriceEntry.provider == name))
        }
    assert rows == {platform: 1_000, mine: 7, theirs: 3_000}


@pytest.mark.parametrize("owner", ["platform", "other"])
async def test_inserting_for_someone_else_is_refused(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture, owner: str
) -> None:
    row = PriceEntry(
        tenant_id=None if owner == "platform" else other_tenant.id,
        provider=provider(),
        kind=ChannelKind.sms,
        country="US",
        unit=PriceUnit.segment,
        unit_price_micros=1,
        currency="USD",
        valid_from=SINCE,
    )
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.tenant_session(tenant.id) as session:
            session.add(row)
            await session.flush()


@pytest.mark.parametrize("tenant_owned", [False, True])
async def test_overlapping_periods_are_refused_by_the_database(
    db: Database, tenant: TenantFixture, tenant_owned: bool
) -> None:
    name = provider()
    owner = tenant.id if tenant_owned else None
    await add_price(db, name, "US", 1_000, tenant_id=owner, valid_to=SINCE + timedelta(days=10))
    await add_price(db, name, "US", 2_000, tenant_id=owner, valid_from=SINCE + timedelta(days=10))
    await add_price(db, name, "GB", 2_000, tenant_id=owner, valid_from=SINCE + timedelta(days=5))
    with pytest.raises(IntegrityError, match="ex_prices_one_price_at_a_time"):
        await add_price(
            db, name, "US", 3_000, tenant_id=owner, valid_from=SINCE + timedelta(days=5)
        )
