"""API shapes of prices and quotes. Amounts are exact decimals (JSON strings, six decimals)
in the row's currency; the database keeps them as integer micro-units."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from herald.contact.models import ChannelKind
from herald.cost.models import PriceEntry, PriceSource, PriceUnit
from herald.cost.pricing import AudienceCost, Category, CountryCost, Price, to_decimal

MAX_SEGMENTS = 50
"""More segments than any provider concatenates (10 is a common cap): a typo, not a message."""

Provider = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Provider name as channels use it: twilio, vonage, mitto, whatsapp_cloud…",
    ),
]
CountryCode = Annotated[
    str, Field(pattern=r"^([A-Z]{2}|\*)$", description="ISO 3166-1 alpha-2, or * for any other")
]
Amount = Annotated[
    Decimal,
    Field(ge=0, le=1000, decimal_places=6, description="Price per unit, up to six decimals."),
]
Segments = Annotated[int, Field(ge=1, le=MAX_SEGMENTS, description="SMS segments per message.")]


class PriceRead(BaseModel):
    id: UUID
    owner: PriceSource
    provider: str
    kind: ChannelKind
    country: str
    unit: PriceUnit
    unit_price: Decimal
    currency: str
    valid_from: datetime
    valid_to: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: PriceEntry) -> PriceRead:
        return cls(
            id=row.id,
            owner=row.owner,
            provider=row.provider,
            kind=row.kind,
            country=row.country,
            unit=row.unit,
            unit_price=to_decimal(row.unit_price_micros),
            currency=row.currency,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class PriceCreate(BaseModel):
    """A tenant's own price for one key, overriding the platform's while in effect."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider
    kind: ChannelKind
    country: CountryCode
    category: Category | None = Field(default=None, description="WhatsApp only, and required.")
    unit_price: Amount
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="Must be the account's; default."
    )
    valid_from: AwareDatetime | None = Field(default=None, description="Default: now.")
    valid_to: AwareDatetime | None = Field(default=None, description="Default: open-ended.")


class PriceUpdate(BaseModel):
    """Changes to a tenant's own price; ``valid_to: null`` makes it open-ended again."""

    model_config = ConfigDict(extra="forbid")

    unit_price: Amount | None = None
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Provider
    kind: ChannelKind
    country: CountryCode | None = Field(default=None, description="Or give phone; neither: *.")
    phone: str | None = Field(default=None, max_length=32, description="E.164 destination.")
    segments: Segments = 1
    category: Category | None = Field(default=None, description="WhatsApp only, and required.")
    at: AwareDatetime | None = Field(default=None, description="Default: now.")

    @model_validator(mode="after")
    def _one_destination(self) -> Self:
        if self.country is not None and self.phone is not None:
            raise ValueError("send either 'country' or 'phone', not both")
        return self


class QuoteRead(BaseModel):
    provider: str
    kind: ChannelKind
    unit: PriceUnit
    country: str | None
    matched_country: str
    unit_price: Decimal
    quantity: int
    total: Decimal
    currency: str
    source: PriceSource
    price_id: UUID

    @classmethod
    def of(cls, quote: Price) -> QuoteRead:
        return cls(
            provider=quote.provider,
            kind=quote.kind,
            unit=quote.unit,
            country=quote.country,
            matched_country=quote.matched_country,
            unit_price=to_decimal(quote.unit_price_micros),
            quantity=quote.quantity,
            total=to_decimal(quote.total_micros),
            currency=quote.currency,
            source=quote.source,
            price_id=quote.price_id,
        )


class AudienceQuoteRequest(BaseModel):
    """Price one message to every eligible member of a segment, or of the whole audience."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider
    kind: ChannelKind
    segment_id: UUID | None = None
    all: bool = Field(default=False, description="true: every eligible contact, no segment.")
    segments: Segments = 1
    category: Category | None = Field(default=None, description="WhatsApp only, and required.")

    @model_validator(mode="after")
    def _one_audience(self) -> Self:
        if (self.segment_id is not None) == self.all:
            raise ValueError("send either 'segment_id' or 'all': true")
        return self


class CountryCostRead(BaseModel):
    country: str | None = Field(description="None: the number's country code is not known.")
    recipients: int
    quantity: int
    unit_price: Decimal | None
    subtotal: Decimal | None
    currency: str | None
    source: PriceSource | None
    price_id: UUID | None

    @classmethod
    def of(cls, row: CountryCost) -> CountryCostRead:
        subtotal = row.subtotal_micros
        return cls(
            country=row.country,
            recipients=row.recipients,
            quantity=row.quantity,
            unit_price=None if row.unit_price_micros is None else to_decimal(row.unit_price_micros),
            subtotal=None if subtotal is None else to_decimal(subtotal),
            currency=row.currency,
            source=row.source,
            price_id=row.price_id,
        )


class Total(BaseModel):
    currency: str
    amount: Decimal


class AudienceCostRead(BaseModel):
    recipients: int
    unpriced: int = Field(description="Recipients no price applies to (not in the totals).")
    totals: list[Total] = Field(description="One per currency; usually one.")
    countries: list[CountryCostRead]

    @classmethod
    def of(cls, cost: AudienceCost) -> AudienceCostRead:
        return cls(
            recipients=cost.recipients,
            unpriced=cost.unpriced,
            totals=[
                Total(currency=c, amount=to_decimal(a)) for c, a in sorted(cost.totals.items())
            ],
            countries=[CountryCostRead.of(c) for c in cost.countries],
        )
