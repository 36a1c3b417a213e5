"""How a rendered SMS counts and what it costs: the one place previews meet the SMS counter and
the price list."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.contact.models import ChannelKind
from herald.cost.pricing import to_decimal
from herald.cost.service import price_message
from herald.kit.errors import HeraldError
from herald.sms.encoding import inspect
from herald.template.schemas import Cost


@dataclass(frozen=True)
class Measure:
    text: str
    """The text as it would be sent (after smart encoding, when the tenant has it on)."""
    encoding: str
    segments: int
    characters: int


def measure_sms(text: str, *, smart: bool) -> Measure:
    found = inspect(text, smart=smart)
    return Measure(found.text, str(found.encoding), found.segments, found.characters)


async def quote_sms(
    session: AsyncSession, tenant_id: UUID, provider: str, country: str | None, segments: int
) -> tuple[Cost | None, str | None]:
    """The price of ``segments`` segments to ``country``, or ``None`` and why it has none."""
    try:
        price = await price_message(
            session,
            tenant_id,
            provider=provider,
            kind=ChannelKind.sms,
            country=country,
            segments=segments,
        )
    except HeraldError as exc:
        return None, exc.detail
    return (
        Cost(
            amount=str(to_decimal(price.total_micros)),
            currency=price.currency,
            unit_price=str(to_decimal(price.unit_price_micros)),
            per=price.unit.value,
        ),
        None,
    )
