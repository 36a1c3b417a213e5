"""Prices and contacts written straight to the database, under a provider name of the test's
own so that platform rows made by one test never price another's."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from herald.contact.models import ChannelKind, Contact
from herald.cost.models import PriceEntry, PriceUnit
from herald.kit.database import Database

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def provider() -> str:
    return f"test_{uuid4().hex[:12]}"


async def add_price(
    db: Database,
    provider: str,
    country: str,
    micros: int,
    *,
    tenant_id: UUID | None = None,
    kind: ChannelKind = ChannelKind.sms,
    unit: PriceUnit = PriceUnit.segment,
    valid_from: datetime = SINCE,
    valid_to: datetime | None = None,
    currency: str = "USD",
) -> UUID:
    """A platform row (``tenant_id`` None, written as the owner) or a tenant's row."""
    async with db.system_session() as session:
        row = PriceEntry(
            tenant_id=tenant_id,
            provider=provider,
            kind=kind,
            country=country,
            unit=unit,
            unit_price_micros=micros,
            currency=currency,
            valid_from=valid_from,
            valid_to=valid_to,
        )
        session.add(row)
        await session.flush()
        return row.id


async def add_numbers(db: Database, tenant_id: UUID, *phones: str, **fields: object) -> None:
    async with db.tenant_session(tenant_id) as session:
        session.add_all(Contact(tenant_id=tenant_id, phone_e164=p, **fields) for p in phones)
