"""All SQL of prices: the list, overlap checks, effective rows and the audience by country."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, and_, func, literal_column, or_, select, true

from herald.contact.models import ChannelKind, Contact
from herald.cost.models import ANY_COUNTRY, CallingCode, PriceEntry, PriceOwner, PriceUnit
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository

PREFIX_DIGITS = 3
"""The longest E.164 country calling code."""


@dataclass(frozen=True)
class PriceKey:
    """What a price is for; one owner has one price per key at any instant."""

    provider: str
    kind: ChannelKind
    country: str
    unit: PriceUnit


@dataclass(frozen=True)
class PriceFilter:
    provider: str | None = None
    kind: ChannelKind | None = None
    country: str | None = None
    owner: PriceOwner = PriceOwner.all
    at: datetime | None = None


def visible_to(tenant_id: UUID) -> ColumnElement[bool]:
    """The platform's rows and the tenant's own (row-level security says the same)."""
    return or_(PriceEntry.tenant_id.is_(None), PriceEntry.tenant_id == tenant_id)


def in_effect(at: datetime) -> ColumnElement[bool]:
    return and_(
        PriceEntry.valid_from <= at, or_(PriceEntry.valid_to.is_(None), PriceEntry.valid_to > at)
    )


def _period(start: Any, end: Any) -> ColumnElement[Any]:
    return func.tstzrange(start, end, "[)")


class PriceRepository(Repository):
    async def get(self, tenant_id: UUID, price_id: UUID) -> PriceEntry | None:
        """A row the tenant can see: its own or the platform's."""
        return await self.session.scalar(
            select(PriceEntry).where(PriceEntry.id == price_id, visible_to(tenant_id))
        )

    def add(self, price: PriceEntry) -> None:
        self.session.add(price)

    async def delete(self, price: PriceEntry) -> None:
        await self.session.delete(price)

    async def list(
        self, tenant_id: UUID, where: PriceFilter, params: PageParams
    ) -> Slice[PriceEntry]:
        stmt = select(PriceEntry).where(_owner(tenant_id, where.owner))
        if where.provider is not None:
            stmt = stmt.where(PriceEntry.provider == where.provider)
        if where.kind is not None:
            stmt = stmt.where(PriceEntry.kind == where.kind)
        if where.country is not None:
            stmt = stmt.where(PriceEntry.country == where.country)
        if where.at is not None:
            stmt = stmt.where(in_effect(where.at))
        return await self.page(stmt, params, PriceEntry.country, PriceEntry.id)

    async def overlapping(
        self,
        tenant_id: UUID,
        key: PriceKey,
        valid_from: datetime,
        valid_to: datetime | None,
        *,
        other_than: UUID | None = None,
    ) -> PriceEntry | None:
        """The tenant's row of ``key`` whose period meets ``[valid_from, valid_to)``, if any."""
        stmt = select(PriceEntry).where(
            PriceEntry.tenant_id == tenant_id,
            PriceEntry.provider == key.provider,
            PriceEntry.kind == key.kind,
            PriceEntry.country == key.country,
            PriceEntry.unit == key.unit,
            _period(PriceEntry.valid_from, PriceEntry.valid_to).op("&&")(
                _period(valid_from, valid_to)
            ),
        )
        if other_than is not None:
            stmt = stmt.where(PriceEntry.id != other_than)
        return await self.session.scalar(stmt.order_by(PriceEntry.valid_from).limit(1))

    async def platform_from(self, key: PriceKey, at: datetime) -> Sequence[PriceEntry]:
        """The platform's rows of ``key`` still in effect at or after ``at``, oldest first."""
        stmt = select(PriceEntry).where(
            PriceEntry.tenant_id.is_(None),
            PriceEntry.provider == key.provider,
            PriceEntry.kind == key.kind,
            PriceEntry.country == key.country,
            PriceEntry.unit == key.unit,
            or_(PriceEntry.valid_to.is_(None), PriceEntry.valid_to > at),
        )
        return (await self.session.scalars(stmt.order_by(PriceEntry.valid_from))).all()

    async def platform_effective(
        self, at: datetime, provider: str | None = None
    ) -> Sequence[PriceEntry]:
        """The platform's rows in effect at ``at``, by provider, kind, country and unit."""
        stmt = select(PriceEntry).where(PriceEntry.tenant_id.is_(None), in_effect(at))
        if provider is not None:
            stmt = stmt.where(PriceEntry.provider == provider)
        order = (PriceEntry.provider, PriceEntry.kind, PriceEntry.country, PriceEntry.unit)
        return (await self.session.scalars(stmt.order_by(*order))).all()

    async def effective(
        self,
        tenant_id: UUID,
        provider: str,
        kind: ChannelKind,
        at: datetime,
        *,
        unit: PriceUnit | None = None,
        country: str | None = None,
    ) -> Sequence[PriceEntry]:
        """The rows in effect at ``at`` that can price for the tenant; narrowed to one unit
        and to the rows that can answer for one destination when those are given."""
        stmt = select(PriceEntry).where(
            visible_to(tenant_id),
            PriceEntry.provider == provider,
            PriceEntry.kind == kind,
            in_effect(at),
        )
        if unit is not None:
            stmt = stmt.where(PriceEntry.unit == unit)
        if country is not None:
            stmt = stmt.where(PriceEntry.country.in_([country, ANY_COUNTRY]))
        return (await self.session.scalars(stmt)).all()

    async def audience_by_country(
        self,
        tenant_id: UUID,
        contact_filter: ColumnElement[bool],
        provider: str,
        kind: ChannelKind,
        unit: PriceUnit,
        at: datetime,
    ) -> Sequence[Row[Any, Any, Any, Any, Any, Any]]:
        """One row per destination country of the audience: its recipients and the price that
        applies there (NULLs when none does), in one statement.

        Contacts are first counted per 3-digit prefix of their number, a plain grouping with no
        join per contact; the few hundred prefixes at most are then matched to their calling
        code (codes are prefix-free, so one matches at most) and regrouped by country. The best
        price per country comes from a LATERAL pick in the resolution order (exact country
        before ``*``, the tenant's row before the platform's).
        """
        prefix = func.substr(
            Contact.phone_e164, literal_column("2"), literal_column(str(PREFIX_DIGITS))
        )
        prefixes = (
            select(prefix.label("prefix"), func.count().label("recipients"))
            .where(Contact.tenant_id == tenant_id, Contact.erased_at.is_(None), contact_filter)
            .group_by(prefix)
            .subquery("prefixes")
        )
        heads = [func.left(prefixes.c.prefix, n) for n in range(1, PREFIX_DIGITS + 1)]
        audience = (
            select(
                CallingCode.region.label("country"),
                func.sum(prefixes.c.recipients).label("recipients"),
            )
            .select_from(prefixes.outerjoin(CallingCode, CallingCode.code.in_(heads)))
            .group_by(CallingCode.region)
            .subquery("audience")
        )
        best = (
            select(
                PriceEntry.id,
                PriceEntry.tenant_id,
                PriceEntry.unit_price_micros,
                PriceEntry.currency,
            )
            .where(
                visible_to(tenant_id),
                PriceEntry.provider == provider,
                PriceEntry.kind == kind,
                PriceEntry.unit == unit,
                in_effect(at),
                or_(PriceEntry.country == audience.c.country, PriceEntry.country == ANY_COUNTRY),
            )
            .order_by(
                (PriceEntry.country == ANY_COUNTRY).asc(), PriceEntry.tenant_id.is_(None).asc()
            )
            .limit(1)
            .lateral("best")
        )
        stmt = (
            select(
                audience.c.country,
                audience.c.recipients,
                best.c.id,
                best.c.tenant_id,
                best.c.unit_price_micros,
                best.c.currency,
            )
            .select_from(audience.outerjoin(best, true()))
            .order_by(audience.c.country)
        )
        return (await self.session.execute(stmt)).all()


def _owner(tenant_id: UUID, owner: PriceOwner) -> ColumnElement[bool]:
    if owner is PriceOwner.platform:
        return PriceEntry.tenant_id.is_(None)
    if owner is PriceOwner.tenant:
        return PriceEntry.tenant_id == tenant_id
    return visible_to(tenant_id)
