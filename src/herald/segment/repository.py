"""All SQL of segments: CRUD, counts and samples over compiled rules, set-based refresh."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Select, delete, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert

from herald.contact.models import Contact
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.segment.models import Segment, SegmentMembership


def matching(tenant_id: UUID, where: ColumnElement[bool]) -> Select[Contact]:
    """The tenant's live (not erased) contacts that satisfy ``where``."""
    return select(Contact).where(Contact.tenant_id == tenant_id, Contact.erased_at.is_(None), where)


class SegmentRepository(Repository):
    async def get(
        self, tenant_id: UUID, segment_id: UUID, *, for_update: bool = False
    ) -> Segment | None:
        stmt = select(Segment).where(Segment.tenant_id == tenant_id, Segment.id == segment_id)
        return await self.session.scalar(stmt.with_for_update() if for_update else stmt)

    async def get_by_name(self, tenant_id: UUID, name: str) -> Segment | None:
        return await self.session.scalar(
            select(Segment).where(Segment.tenant_id == tenant_id, Segment.name == name)
        )

    def add(self, segment: Segment) -> None:
        self.session.add(segment)

    async def delete(self, segment: Segment) -> None:
        await self.session.delete(segment)

    async def list(self, tenant_id: UUID, params: PageParams) -> Slice[Segment]:
        stmt = select(Segment).where(Segment.tenant_id == tenant_id)
        return await self.page(stmt, params, Segment.name, Segment.id)

    async def count(self, tenant_id: UUID, where: ColumnElement[bool]) -> int:
        stmt = matching(tenant_id, where).with_only_columns(func.count())
        return int(await self.session.scalar(stmt) or 0)

    async def sample(
        self, tenant_id: UUID, where: ColumnElement[bool], size: int
    ) -> Sequence[Contact]:
        if size == 0:
            return []
        stmt = matching(tenant_id, where).order_by(Contact.id.desc()).limit(size)
        return (await self.session.scalars(stmt)).all()

    async def refresh(self, segment: Segment, where: ColumnElement[bool], now: datetime) -> int:
        """Make the memberships equal the contacts matching ``where``: one ``INSERT … SELECT``
        of the newcomers and one ``DELETE`` of those who no longer match. Returns the count."""
        newcomers = matching(segment.tenant_id, where).with_only_columns(
            Contact.tenant_id, literal(segment.id), Contact.id
        )
        await self.session.execute(
            insert(SegmentMembership)
            .from_select(["tenant_id", "segment_id", "contact_id"], newcomers)
            .on_conflict_do_nothing()
        )
        still_matching = exists(
            matching(segment.tenant_id, where)
            .with_only_columns(literal(1))
            .where(Contact.id == SegmentMembership.contact_id)
        )
        await self.session.execute(
            delete(SegmentMembership).where(
                SegmentMembership.segment_id == segment.id, ~still_matching
            )
        )
        members = await self.session.scalar(
            select(func.count())
            .select_from(SegmentMembership)
            .where(SegmentMembership.segment_id == segment.id)
        )
        segment.member_count = int(members or 0)
        segment.refreshed_at = now
        await self.session.flush()
        return segment.member_count

    async def clear(self, segment: Segment) -> None:
        """Forget the memberships (the rules changed): NULL counts until the next refresh."""
        await self.session.execute(
            delete(SegmentMembership).where(SegmentMembership.segment_id == segment.id)
        )
        segment.member_count, segment.refreshed_at = None, None

    async def members(
        self, tenant_id: UUID, segment_id: UUID, params: PageParams
    ) -> Slice[Contact]:
        stmt = (
            select(Contact)
            .join(SegmentMembership, SegmentMembership.contact_id == Contact.id)
            .where(
                SegmentMembership.tenant_id == tenant_id,
                SegmentMembership.segment_id == segment_id,
            )
        )
        return await self.page(stmt, params, Contact.id, Contact.id)
