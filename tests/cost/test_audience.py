"""``price_audience``: one query grouping the audience by destination, checked by hand."""

from __future__ import annotations

from sqlalchemy import true

from herald.contact.models import ChannelKind, Contact
from herald.cost import service
from herald.cost.models import PriceSource, PriceUnit
from herald.cost.pricing import Category
from herald.kit.database import Database
from herald.kit.models import utcnow
from tests.conftest import TenantFixture
from tests.cost.helpers import add_numbers, add_price, provider

US = ("+14155550101", "+14155550102", "+14165550103")  # the last one is Toronto: priced as US
GB = ("+447700900101", "+447700900102")
FR = ("+33612345601",)
NON_GEOGRAPHIC = ("+80012345601",)


async def test_totals_across_countries(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    name = provider()
    await add_price(db, name, "US", 10_000)
    await add_price(db, name, "GB", 40_000)
    await add_price(db, name, "*", 80_000)
    await add_price(db, name, "GB", 30_000, tenant_id=tenant.id)
    await add_price(db, name, "US", 1, tenant_id=other_tenant.id)
    await add_numbers(db, tenant.id, *US, *GB, *FR, *NON_GEOGRAPHIC)
    await add_numbers(db, tenant.id, "+14155550199", erased_at=utcnow())
    await add_numbers(db, other_tenant.id, "+14155550101", "+447700900101")

    async with db.tenant_session(tenant.id) as session:
        cost = await service.price_audience(
            session,
            tenant.id,
            provider=name,
            kind=ChannelKind.sms,
            contact_filter=true(),
            segments_per_message=2,
        )
    by_country = {c.country: c for c in cost.countries}
    assert set(by_country) == {"US", "GB", "FR", None}
    assert [(c.recipients, c.unit_price_micros, c.subtotal_micros) for c in cost.countries] == [
        (1, 80_000, 160_000),  # FR, by the platform's *
        (2, 30_000, 120_000),  # GB, by the tenant's override
        (3, 10_000, 60_000),  # US
        (1, 80_000, 160_000),  # +800, no country: by *
    ]
    assert by_country["GB"].source is PriceSource.tenant
    assert by_country["FR"].source is PriceSource.platform
    assert (cost.recipients, cost.unpriced, cost.totals) == (7, 0, {"USD": 500_000})


async def test_unpriced_recipients_are_counted_not_priced(
    db: Database, tenant: TenantFixture
) -> None:
    name = provider()
    await add_price(db, name, "US", 25_000, kind=ChannelKind.whatsapp, unit=PriceUnit.marketing)
    await add_price(db, name, "GB", 5_000, kind=ChannelKind.whatsapp, unit=PriceUnit.utility)
    await add_numbers(db, tenant.id, *US, *GB)
    async with db.tenant_session(tenant.id) as session:
        cost = await service.price_audience(
            session,
            tenant.id,
            provider=name,
            kind=ChannelKind.whatsapp,
            contact_filter=Contact.first_name.is_(None),
            segments_per_message=4,
            category=Category.marketing,
        )
    assert (cost.recipients, cost.unpriced, cost.totals) == (5, 2, {"USD": 75_000})
    gb = next(c for c in cost.countries if c.country == "GB")
    assert (gb.unit_price_micros, gb.subtotal_micros, gb.quantity) == (None, None, 1)


async def test_filter_and_empty_audience(db: Database, tenant: TenantFixture) -> None:
    name = provider()
    await add_price(db, name, "*", 1_000)
    await add_numbers(db, tenant.id, *US, first_name="Ana")
    await add_numbers(db, tenant.id, *GB)
    async with db.tenant_session(tenant.id) as session:
        anas = await service.price_audience(
            session,
            tenant.id,
            provider=name,
            kind=ChannelKind.sms,
            contact_filter=Contact.first_name == "Ana",
            segments_per_message=1,
        )
        nobody = await service.price_audience(
            session,
            tenant.id,
            provider=name,
            kind=ChannelKind.sms,
            contact_filter=Contact.first_name == "Zoe",
            segments_per_message=1,
        )
    assert (anas.recipients, anas.totals) == (3, {"USD": 3_000})
    assert (nobody.recipients, nobody.countries, nobody.totals) == (0, [], {})
