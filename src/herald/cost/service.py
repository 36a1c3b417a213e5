"""Message costs: pricing one message, a batch (``PriceTable``) or a whole audience, and the
tenant's own overrides of the platform's price list.

Other domains call ``price_message``, ``load_price_table`` and ``price_audience``; the
resolution order is documented in ``herald.cost.pricing``.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from phonenumbers import REGION_CODE_FOR_NON_GEO_ENTITY
from sqlalchemy import ColumnElement, and_
from sqlalchemy.ext.asyncio import AsyncSession

from herald.contact.eligibility import Purpose, eligible
from herald.contact.models import ChannelKind
from herald.cost.models import ANY_COUNTRY, PLATFORM_CURRENCY, PriceEntry, PriceSource
from herald.cost.pricing import (
    AudienceCost,
    Category,
    CountryCost,
    Price,
    PriceRow,
    PriceTable,
    quantity_of,
    to_micros,
    unit_of,
)
from herald.cost.repository import PriceFilter, PriceKey, PriceRepository
from herald.cost.schemas import AudienceQuoteRequest, PriceCreate, PriceUpdate, QuoteRequest
from herald.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from herald.kit.models import utcnow
from herald.kit.pagination import PageParams, Slice
from herald.kit.phone import PhoneError, parse_phone, region_of
from herald.segment.service import compile_for_tenant, get_segment
from herald.tenant.service import get_tenant

__all__ = [
    "AudienceCost",
    "Price",
    "PriceTable",
    "load_price_table",
    "price_audience",
    "price_message",
]


def _row(price: PriceEntry) -> PriceRow:
    return PriceRow(
        id=price.id,
        source=price.owner,
        country=price.country,
        unit=price.unit,
        unit_price_micros=price.unit_price_micros,
        currency=price.currency,
    )


async def load_price_table(
    session: AsyncSession,
    tenant_id: UUID,
    provider: str,
    kind: ChannelKind,
    at: datetime | None = None,
) -> PriceTable:
    """Every price in effect for the tenant at ``at`` (default now), in one query: load it once
    per batch and call ``.price(country, units, category)`` per message."""
    at = at or utcnow()
    rows = await PriceRepository(session).effective(tenant_id, provider, kind, at)
    return PriceTable.of(provider, kind, at, map(_row, rows))


async def price_message(
    session: AsyncSession,
    tenant_id: UUID,
    *,
    provider: str,
    kind: ChannelKind,
    country: str | None,
    segments: int = 1,
    category: Category | None = None,
    at: datetime | None = None,
) -> Price:
    """The price of one message to ``country`` (``None``: unknown, priced by ``*``); 422 when
    no row prices it. Reads only the at most four rows that can answer."""
    at = at or utcnow()
    unit = unit_of(kind, category)
    rows = await PriceRepository(session).effective(
        tenant_id, provider, kind, at, unit=unit, country=country
    )
    return PriceTable.of(provider, kind, at, map(_row, rows)).price(country, segments, category)


async def price_audience(
    session: AsyncSession,
    tenant_id: UUID,
    *,
    provider: str,
    kind: ChannelKind,
    contact_filter: ColumnElement[bool],
    segments_per_message: int,
    category: Category | None = None,
    at: datetime | None = None,
) -> AudienceCost:
    """What one message to every contact matching ``contact_filter`` costs, by destination
    country, in one query. The country comes from the number's calling code, so every ``+1``
    number counts as US (see ``CallingCode``); contacts no price applies to are counted, not
    priced."""
    unit = unit_of(kind, category)
    rows = await PriceRepository(session).audience_by_country(
        tenant_id, contact_filter, provider, kind, unit, at or utcnow()
    )
    quantity = quantity_of(kind, segments_per_message)
    return AudienceCost(
        [
            CountryCost(
                country=row.country,
                recipients=int(row.recipients),
                quantity=quantity,
                unit_price_micros=row.unit_price_micros,
                currency=row.currency,
                source=None if row.id is None else _source(row.tenant_id),
                price_id=row.id,
            )
            for row in rows
        ]
    )


def _source(tenant_id: UUID | None) -> PriceSource:
    return PriceSource.platform if tenant_id is None else PriceSource.tenant


# --- quotes ---------------------------------------------------------------------------------


def country_of_phone(phone: str) -> str | None:
    """The destination of a number, NANP included (``+1 416…`` is CA): phonenumbers knows each
    area code, which the audience query's calling-code table does not. Non-geographic numbers
    (+800…) have no country: ``*`` prices them."""
    try:
        region = region_of(parse_phone(phone, None))
    except PhoneError as exc:
        raise Unprocessable(
            f"{exc}; send the destination in E.164 (+ and country code), or send 'country'.",
            errors=[{"field": "phone", "message": exc.reason}],
        ) from exc
    return None if region == REGION_CODE_FOR_NON_GEO_ENTITY else region


async def quote(session: AsyncSession, tenant_id: UUID, data: QuoteRequest) -> Price:
    country = country_of_phone(data.phone) if data.phone is not None else data.country
    return await price_message(
        session,
        tenant_id,
        provider=data.provider,
        kind=data.kind,
        country=None if country == ANY_COUNTRY else country,
        segments=data.segments,
        category=data.category,
        at=data.at,
    )


async def quote_audience(
    session: AsyncSession, tenant_id: UUID, data: AudienceQuoteRequest
) -> AudienceCost:
    """Prices the contacts a marketing campaign on ``kind`` could reach (consent, do-not-contact
    and suppression applied), as the send would count them, within a segment if one is given."""
    where = and_(*eligible(tenant_id, data.kind, Purpose.marketing))
    if data.segment_id is not None:
        segment = await get_segment(session, tenant_id, data.segment_id)
        where = and_(where, await compile_for_tenant(session, tenant_id, segment.rules))
    return await price_audience(
        session,
        tenant_id,
        provider=data.provider,
        kind=data.kind,
        contact_filter=where,
        segments_per_message=data.segments,
        category=data.category,
    )


# --- the tenant's overrides -----------------------------------------------------------------


async def list_prices(
    session: AsyncSession, tenant_id: UUID, where: PriceFilter, params: PageParams
) -> Slice[PriceEntry]:
    return await PriceRepository(session).list(tenant_id, where, params)


async def get_price(session: AsyncSession, tenant_id: UUID, price_id: UUID) -> PriceEntry:
    price = await PriceRepository(session).get(tenant_id, price_id)
    if price is None:
        raise NotFound(f"No price {price_id} in this account or the platform's list.")
    return price


async def _own_price(session: AsyncSession, tenant_id: UUID, price_id: UUID) -> PriceEntry:
    price = await get_price(session, tenant_id, price_id)
    if price.tenant_id is None:
        raise Forbidden(
            f"Price {price_id} belongs to the platform's list, which is read-only; override it "
            "with POST /v1/costs for the same provider, kind, country and unit."
        )
    return price


async def create_price(session: AsyncSession, tenant_id: UUID, data: PriceCreate) -> PriceEntry:
    tenant = await get_tenant(session, tenant_id)
    if data.currency is not None and data.currency != tenant.currency:
        raise Unprocessable(
            f"Prices of this account are in {tenant.currency}; send that currency or leave it out.",
            errors=[{"field": "currency", "message": f"expected {tenant.currency}"}],
        )
    key = PriceKey(data.provider, data.kind, data.country, unit_of(data.kind, data.category))
    valid_from = data.valid_from or utcnow()
    await _check_period(session, tenant_id, key, valid_from, data.valid_to)
    price = PriceEntry(
        tenant_id=tenant_id,
        provider=key.provider,
        kind=key.kind,
        country=key.country,
        unit=key.unit,
        unit_price_micros=to_micros(data.unit_price),
        currency=tenant.currency,
        valid_from=valid_from,
        valid_to=data.valid_to,
    )
    repo = PriceRepository(session)
    repo.add(price)
    await session.flush()
    return price


async def update_price(
    session: AsyncSession, tenant_id: UUID, price_id: UUID, data: PriceUpdate
) -> PriceEntry:
    price = await _own_price(session, tenant_id, price_id)
    valid_from = data.valid_from or price.valid_from
    valid_to = data.valid_to if "valid_to" in data.model_fields_set else price.valid_to
    key = PriceKey(price.provider, price.kind, price.country, price.unit)
    await _check_period(session, tenant_id, key, valid_from, valid_to, other_than=price.id)
    if data.unit_price is not None:
        price.unit_price_micros = to_micros(data.unit_price)
    price.valid_from, price.valid_to = valid_from, valid_to
    await session.flush()
    return price


async def delete_price(session: AsyncSession, tenant_id: UUID, price_id: UUID) -> None:
    price = await _own_price(session, tenant_id, price_id)
    await PriceRepository(session).delete(price)
    await session.flush()


async def change_platform_price(
    session: AsyncSession, key: PriceKey, unit_price_micros: int, valid_from: datetime
) -> PriceEntry:
    """An operator's change to the platform's list (USD), from ``valid_from`` on: the row in
    effect then ends there and the new one takes over until that row would have ended. History
    is kept, so quotes for earlier dates keep their price. Runs as the owner (no tenant)."""
    repo = PriceRepository(session)
    rows = list(await repo.platform_from(key, valid_from))
    later = [row for row in rows if row.valid_from >= valid_from]
    if later:
        raise Conflict(
            f"Platform price {later[0].id} already starts on {later[0].valid_from:%Y-%m-%d %H:%M}"
            "; change prices in date order, or remove that row first.",
            conflicting_id=str(later[0].id),
        )
    valid_to = None
    if rows:
        valid_to, rows[0].valid_to = rows[0].valid_to, valid_from
        await session.flush()
    price = PriceEntry(
        tenant_id=None,
        provider=key.provider,
        kind=key.kind,
        country=key.country,
        unit=key.unit,
        unit_price_micros=unit_price_micros,
        currency=PLATFORM_CURRENCY,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    repo.add(price)
    await session.flush()
    return price


async def _check_period(
    session: AsyncSession,
    tenant_id: UUID,
    key: PriceKey,
    valid_from: datetime,
    valid_to: datetime | None,
    *,
    other_than: UUID | None = None,
) -> None:
    """A period must not be empty nor meet another of the tenant's rows of the same key (the
    database's exclusion constraint would refuse it too, without saying which row)."""
    if valid_to is not None and valid_to <= valid_from:
        raise Unprocessable(
            f"valid_to ({valid_to:%Y-%m-%d %H:%M}) must come after valid_from "
            f"({valid_from:%Y-%m-%d %H:%M}).",
            errors=[{"field": "valid_to", "message": "not after valid_from"}],
        )
    clash = await PriceRepository(session).overlapping(
        tenant_id, key, valid_from, valid_to, other_than=other_than
    )
    if clash is not None:
        until = f"{clash.valid_to:%Y-%m-%d %H:%M}" if clash.valid_to else "open-ended"
        raise Conflict(
            f"Price {clash.id} already covers {key.provider} {key.kind} {key.country} per "
            f"{key.unit} from {clash.valid_from:%Y-%m-%d %H:%M} to {until}; end it first "
            "(PATCH its valid_to) or pick a period that does not overlap.",
            conflicting_id=str(clash.id),
        )
