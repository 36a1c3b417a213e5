"""Price lists: what one unit of a message costs, per provider, medium, destination and unit.

Platform rows (``tenant_id`` NULL) are the default list every tenant reads; a tenant's own rows
override any key of it. Prices are integer **micro-units** of their currency (1 USD =
1,000,000), exact for the sub-cent prices SMS and WhatsApp are sold at.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.contact.models import ChannelKind
from herald.kit.models import Base, IdMixin, TimestampMixin, str_enum

MICROS = 1_000_000
"""Micro-units in one unit of a currency."""
PLATFORM_CURRENCY = "USD"
"""The platform's list is in US dollars; a tenant's overrides are in the tenant's currency."""
ANY_COUNTRY = "*"
"""The country of a fallback row: it prices every destination without a row of its own."""


class PriceUnit(StrEnum):
    """What a price is per: an SMS segment, or a WhatsApp message of one Meta category."""

    segment = "segment"
    marketing = "marketing"
    utility = "utility"
    authentication = "authentication"
    service = "service"


class PriceOwner(StrEnum):
    """Whose rows a list shows: the platform's defaults, the tenant's overrides, or both."""

    all = "all"
    platform = "platform"
    tenant = "tenant"


class PriceSource(StrEnum):
    """Who set a price: the tenant (an override) or the platform (the default list)."""

    tenant = "tenant"
    platform = "platform"


class PriceEntry(IdMixin, TimestampMixin, Base):
    """One price, in effect from ``valid_from`` until ``valid_to`` (``NULL``: open-ended).

    The database refuses two rows of one owner and key whose periods overlap (an exclusion
    constraint, see migration 0013), so at any instant each key has at most one price.
    """

    __tablename__ = "prices"
    __audited__ = frozenset(
        {
            "provider",
            "kind",
            "country",
            "unit",
            "unit_price_micros",
            "currency",
            "valid_from",
            "valid_to",
        }
    )
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
        CheckConstraint("unit_price_micros >= 0", name="not_negative"),
        CheckConstraint(
            "(kind = 'sms' AND unit = 'segment') OR (kind = 'whatsapp' AND unit <> 'segment')",
            name="unit_of_kind",
        ),
    )

    tenant_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    """``NULL`` for the platform's default list."""
    provider: Mapped[str] = mapped_column(String(40))
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))
    country: Mapped[str] = mapped_column(String(2))
    """ISO 3166-1 alpha-2, or ``*`` for every country without a row of its own."""
    unit: Mapped[PriceUnit] = mapped_column(str_enum(PriceUnit))
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]

    @property
    def owner(self) -> PriceSource:
        return PriceSource.platform if self.tenant_id is None else PriceSource.tenant


class CallingCode(Base):
    """An E.164 country calling code and the main region it is dialled for (``1`` → US).

    Used to group an audience by destination country in SQL. Country codes are a prefix code
    (no code is the prefix of another), so a number's first 1 to 3 digits match one row at most.
    """

    __tablename__ = "calling_codes"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    region: Mapped[str] = mapped_column(String(2))
