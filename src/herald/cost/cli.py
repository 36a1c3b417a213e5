"""``herald costs``: the operator's view of the platform's price list, and changes to it (the
API lets tenants override prices, never change the platform's)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from herald.contact.models import ChannelKind
from herald.cost.models import PLATFORM_CURRENCY, PriceEntry
from herald.cost.pricing import Category, to_decimal, to_micros, unit_of
from herald.cost.repository import PriceKey, PriceRepository
from herald.cost.service import change_platform_price
from herald.kit.console import console, emit_json
from herald.kit.database import Database
from herald.kit.errors import HeraldError
from herald.kit.models import utcnow
from herald.runtime.database import run_with_database

app = typer.Typer(help="The platform's price list.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON, one object per line.")]


def _describe(row: PriceEntry) -> dict[str, object]:
    return {
        "id": str(row.id),
        "provider": row.provider,
        "kind": row.kind.value,
        "country": row.country,
        "unit": row.unit.value,
        "unit_price": str(to_decimal(row.unit_price_micros)),
        "currency": row.currency,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat() if row.valid_to else None,
    }


@app.command("list")
def list_prices(
    provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
    as_json: AsJson = False,
) -> None:
    """The platform's prices in effect now."""

    async def work(db: Database) -> list[PriceEntry]:
        async with db.system_session() as session:
            return await _platform_now(session, provider)

    rows = run_with_database(work)
    for row in rows:
        if as_json:
            emit_json(_describe(row))
        else:
            console.print(
                f"{row.provider:<16} {row.kind.value:<9} {row.country:<2} {row.unit.value:<15} "
                f"{to_decimal(row.unit_price_micros)} {row.currency}"
            )


async def _platform_now(session: AsyncSession, provider: str | None) -> list[PriceEntry]:
    return list(await PriceRepository(session).platform_effective(utcnow(), provider))


SIX_DECIMALS = Decimal("0.000001")
COUNTRY = re.compile(r"^([A-Z]{2}|\*)$")


def _amount(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a number such as 0.0079") from None
    if amount < 0 or amount != amount.quantize(SIX_DECIMALS):
        raise typer.BadParameter("expected a price of zero or more with at most six decimals")
    return amount


@app.command("set")
def set_price(
    provider: Annotated[str, typer.Argument(help="twilio, vonage, mitto, whatsapp_cloud…")],
    kind: Annotated[ChannelKind, typer.Argument(help="sms or whatsapp.")],
    country: Annotated[str, typer.Argument(help="ISO alpha-2 country, or * for any other.")],
    price: Annotated[str, typer.Argument(help=f"Price per unit in {PLATFORM_CURRENCY}.")],
    category: Annotated[Category | None, typer.Option(help="WhatsApp category.")] = None,
    valid_from: Annotated[
        datetime | None, typer.Option("--from", help="When it takes effect (UTC); default now.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Change a platform price from a date on; earlier dates keep the old price."""
    amount = _amount(price)
    if not COUNTRY.match(country.upper()):
        raise typer.BadParameter("expected an ISO alpha-2 country such as FR, or *")
    start = valid_from.replace(tzinfo=valid_from.tzinfo or UTC) if valid_from else utcnow()

    async def work(db: Database) -> PriceEntry:
        key = PriceKey(provider, kind, country.upper(), unit_of(kind, category))
        async with db.system_session() as session:
            return await change_platform_price(session, key, to_micros(amount), start)

    try:
        row = run_with_database(work)
    except HeraldError as exc:
        raise typer.BadParameter(exc.detail) from exc
    if as_json:
        emit_json(_describe(row))
    else:
        console.print(f"Platform price {row.id}: {_describe(row)}")
