"""Resolution order, effective dates and the in-memory price table."""

from __future__ import annotations

from datetime import timedelta

import pytest

from herald.contact.models import ChannelKind
from herald.cost import service
from herald.cost.models import PriceSource, PriceUnit
from herald.cost.pricing import Category
from herald.kit.database import Database
from herald.kit.errors import Unprocessable
from herald.kit.models import utcnow
from tests.conftest import TenantFixture
from tests.cost.helpers import add_price, provider


async def test_resolution_order(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    """Tenant's country, then platform's country, then tenant's *, then platform's *."""
    name = provider()
    await add_price(db, name, "*", 90_000)
    await add_price(db, name, "GB", 40_000)
    await add_price(db, name, "FR", 70_000)
    await add_price(db, name, "*", 60_000, tenant_id=tenant.id)
    await add_price(db, name, "GB", 30_000, tenant_id=tenant.id)
    await add_price(db, name, "FR", 10_000, tenant_id=other_tenant.id)

    async def price(country: str | None) -> tuple[int, str, PriceSource]:
        async with db.tenant_session(tenant.id) as session:
            p = await service.price_message(
                session, tenant.id, provider=name, kind=ChannelKind.sms, country=country
            )
        return p.unit_price_micros, p.matched_country, p.source

    assert await price("GB") == (30_000, "GB", PriceSource.tenant)
    assert await price("FR") == (70_000, "FR", PriceSource.platform)
    assert await price("DE") == (60_000, "*", PriceSource.tenant)
    assert await price(None) == (60_000, "*", PriceSource.tenant)
    async with db.tenant_session(other_tenant.id) as session:
        theirs = await service.price_message(
            session, other_tenant.id, provider=name, kind=ChannelKind.sms, country="DE"
        )
    assert (theirs.unit_price_micros, theirs.source) == (90_000, PriceSource.platform)


async def test_quantity_and_total(db: Database, tenant: TenantFixture) -> None:
    name = provider()
    await add_price(db, name, "US", 8_300)
    await add_price(db, name, "US", 25_000, kind=ChannelKind.whatsapp, unit=PriceUnit.marketing)
    async with db.tenant_session(tenant.id) as session:
        sms = await service.price_message(
            session, tenant.id, provider=name, kind=ChannelKind.sms, country="US", segments=3
        )
        whatsapp = await service.price_message(
            session,
            tenant.id,
            provider=name,
            kind=ChannelKind.whatsapp,
            country="US",
            segments=3,
            category=Category.marketing,
        )
    assert (sms.quantity, sms.total_micros, sms.currency) == (3, 24_900, "USD")
    assert (whatsapp.quantity, whatsapp.total_micros) == (1, 25_000)


async def test_a_price_that_changes_tomorrow(db: Database, tenant: TenantFixture) -> None:
    name = provider()
    now = utcnow()
    tomorrow = now + timedelta(days=1)
    await add_price(db, name, "US", 10_000, valid_from=now - timedelta(days=30), valid_to=tomorrow)
    await add_price(db, name, "US", 20_000, valid_from=tomorrow)
    await add_price(db, name, "GB", 5_000, tenant_id=tenant.id, valid_from=tomorrow)
    await add_price(db, name, "GB", 40_000)
    async with db.tenant_session(tenant.id) as session:
        today = await service.load_price_table(session, tenant.id, name, ChannelKind.sms, now)
        later = await service.load_price_table(
            session, tenant.id, name, ChannelKind.sms, tomorrow + timedelta(hours=1)
        )
    assert today.price("US").unit_price_micros == 10_000
    assert later.price("US").unit_price_micros == 20_000
    assert (today.price("GB").unit_price_micros, today.price("GB").source) == (
        40_000,
        PriceSource.platform,
    )
    assert (later.price("GB").unit_price_micros, later.price("GB").source) == (
        5_000,
        PriceSource.tenant,
    )
    async with db.tenant_session(tenant.id) as session:
        edge = await service.load_price_table(session, tenant.id, name, ChannelKind.sms, tomorrow)
    assert edge.price("US").unit_price_micros == 20_000, "valid_to is exclusive"


async def test_price_table_prices_a_batch_from_one_load(
    db: Database, tenant: TenantFixture
) -> None:
    name = provider()
    for country, micros in (("US", 8_000), ("GB", 40_000), ("*", 90_000)):
        await add_price(db, name, country, micros)
    async with db.tenant_session(tenant.id) as session:
        table = await service.load_price_table(session, tenant.id, name, ChannelKind.sms)
    batch = [("US", 1), ("GB", 2), ("BR", 3), (None, 1)]
    totals = [table.price(country, units).total_micros for country, units in batch]
    assert totals == [8_000, 80_000, 270_000, 90_000]


async def test_nothing_prices_it(db: Database, tenant: TenantFixture) -> None:
    name = provider()
    await add_price(db, name, "US", 8_000)
    async with db.tenant_session(tenant.id) as session:
        with pytest.raises(Unprocessable, match="for '\\*'"):
            await service.price_message(
                session, tenant.id, provider=name, kind=ChannelKind.sms, country="FR"
            )
        table = await service.load_price_table(session, tenant.id, name, ChannelKind.whatsapp)
    with pytest.raises(Unprocessable, match="category"):
        table.price("US")
    with pytest.raises(Unprocessable, match="No test_"):
        table.price("US", category=Category.utility)


async def test_platform_list_is_seeded(db: Database, tenant: TenantFixture) -> None:
    async with db.tenant_session(tenant.id) as session:
        twilio = await service.load_price_table(session, tenant.id, "twilio", ChannelKind.sms)
        meta = await service.load_price_table(
            session, tenant.id, "whatsapp_cloud", ChannelKind.whatsapp
        )
    assert twilio.price("US").unit_price_micros == 8_300
    assert twilio.price("JP").matched_country == "*"
    assert meta.price("BR", category=Category.marketing).unit_price_micros == 62_500
    assert meta.price("FR", category=Category.service).unit_price_micros == 0
