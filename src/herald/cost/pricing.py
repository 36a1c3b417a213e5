"""Prices resolved in memory: the types other domains receive, and the resolution order.

A destination is priced by the first of: the tenant's row for the country, the platform's row
for the country, the tenant's ``*`` row, the platform's ``*`` row. ``PriceTable`` holds every
row that can answer for one provider and medium at one instant, so the send pipeline loads it
once per batch and prices each message without another query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from herald.contact.models import ChannelKind
from herald.cost.models import ANY_COUNTRY, MICROS, PriceSource, PriceUnit
from herald.kit.errors import Unprocessable


class Category(StrEnum):
    """Meta's WhatsApp message categories, each priced on its own."""

    marketing = "marketing"
    utility = "utility"
    authentication = "authentication"
    service = "service"


def to_decimal(micros: int) -> Decimal:
    """Micro-units as an exact amount with six decimals (``8300`` → ``0.008300``)."""
    return Decimal(micros).scaleb(-6)


def to_micros(amount: Decimal) -> int:
    return int(amount * MICROS)


def unit_of(kind: ChannelKind, category: Category | None) -> PriceUnit:
    """SMS is priced per segment; WhatsApp per message of a category, which must be given."""
    if kind is ChannelKind.sms:
        if category is not None:
            raise Unprocessable(
                "A category applies to WhatsApp only; leave it out for SMS.",
                errors=[{"field": "category", "message": "not used for sms"}],
            )
        return PriceUnit.segment
    if category is None:
        raise Unprocessable(
            f"WhatsApp prices depend on the message category; send one of {', '.join(Category)}.",
            errors=[{"field": "category", "message": "required for whatsapp"}],
        )
    return PriceUnit(category.value)


def quantity_of(kind: ChannelKind, segments: int) -> int:
    """Units one message costs: its segments for SMS, one for WhatsApp (billed per message)."""
    return segments if kind is ChannelKind.sms else 1


@dataclass(frozen=True)
class PriceRow:
    """One loaded row of the price list."""

    id: UUID
    source: PriceSource
    country: str
    unit: PriceUnit
    unit_price_micros: int
    currency: str


@dataclass(frozen=True)
class Price:
    """What a message costs and which row said so."""

    provider: str
    kind: ChannelKind
    unit: PriceUnit
    country: str | None
    """The destination asked about (``None``: unknown)."""
    matched_country: str
    """The row's country: the destination's, or ``*`` when a fallback priced it."""
    unit_price_micros: int
    quantity: int
    currency: str
    source: PriceSource
    price_id: UUID

    @property
    def total_micros(self) -> int:
        return self.unit_price_micros * self.quantity


def resolution_keys(country: str | None) -> list[tuple[str, PriceSource]]:
    """The (country, owner) keys tried in order for a destination."""
    exact = [(country, PriceSource.tenant), (country, PriceSource.platform)] if country else []
    return [*exact, (ANY_COUNTRY, PriceSource.tenant), (ANY_COUNTRY, PriceSource.platform)]


@dataclass(frozen=True)
class PriceTable:
    """Every price in effect for one tenant, provider and medium at ``at``."""

    provider: str
    kind: ChannelKind
    at: datetime
    rows: Mapping[tuple[PriceUnit, str, PriceSource], PriceRow] = field(default_factory=dict)

    @classmethod
    def of(
        cls, provider: str, kind: ChannelKind, at: datetime, rows: Iterable[PriceRow]
    ) -> PriceTable:
        return cls(provider, kind, at, {(r.unit, r.country, r.source): r for r in rows})

    def find(self, country: str | None, unit: PriceUnit) -> PriceRow | None:
        for matched, source in resolution_keys(country):
            row = self.rows.get((unit, matched, source))
            if row is not None:
                return row
        return None

    def price(self, country: str | None, units: int = 1, category: Category | None = None) -> Price:
        """The price of ``units`` segments (SMS) or of one message (WhatsApp, by category)
        to ``country``; 422 when no row, not even a ``*`` fallback, prices it."""
        unit = unit_of(self.kind, category)
        row = self.find(country, unit)
        if row is None:
            raise Unprocessable(
                f"No {self.provider} {self.kind} price per {unit} for "
                f"{country or 'an unknown country'} on {self.at:%Y-%m-%d %H:%M} UTC; add a price "
                f"for that country or for '*' with POST /v1/costs."
            )
        return Price(
            provider=self.provider,
            kind=self.kind,
            unit=unit,
            country=country,
            matched_country=row.country,
            unit_price_micros=row.unit_price_micros,
            quantity=quantity_of(self.kind, units),
            currency=row.currency,
            source=row.source,
            price_id=row.id,
        )


@dataclass(frozen=True)
class CountryCost:
    """One destination country of an audience; unpriced countries have no price fields."""

    country: str | None
    recipients: int
    quantity: int
    unit_price_micros: int | None = None
    currency: str | None = None
    source: PriceSource | None = None
    price_id: UUID | None = None

    @property
    def subtotal_micros(self) -> int | None:
        if self.unit_price_micros is None:
            return None
        return self.unit_price_micros * self.quantity * self.recipients


@dataclass(frozen=True)
class AudienceCost:
    """What sending one message to each member of an audience costs, by destination.

    ``totals`` has one entry per currency: platform prices are in USD and a tenant's overrides
    in its own currency, and amounts in two currencies are never added together."""

    countries: list[CountryCost]

    @property
    def recipients(self) -> int:
        return sum(c.recipients for c in self.countries)

    @property
    def unpriced(self) -> int:
        return sum(c.recipients for c in self.countries if c.unit_price_micros is None)

    @property
    def totals(self) -> dict[str, int]:
        sums: dict[str, int] = {}
        for c in self.countries:
            if c.currency is not None and c.subtotal_micros is not None:
                sums[c.currency] = sums.get(c.currency, 0) + c.subtotal_micros
        return sums
