"""All SQL of templates and the template library."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.template.models import LibraryTemplate, Template, TemplateUsage


def _like_prefix(value: str) -> str:
    """``value`` as a LIKE prefix pattern, its own wildcards escaped."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


class TemplateRepository(Repository):
    async def get(self, tenant_id: UUID, template_id: UUID) -> Template | None:
        return await self.session.scalar(
            select(Template).where(Template.tenant_id == tenant_id, Template.id == template_id)
        )

    async def get_by_name(self, tenant_id: UUID, name: str) -> Template | None:
        return await self.session.scalar(
            select(Template).where(Template.tenant_id == tenant_id, Template.name == name)
        )

    async def names_like(self, tenant_id: UUID, base: str) -> Sequence[str]:
        """``base`` and the ``base (n)`` names the tenant already has."""
        stmt = select(Template.name).where(
            Template.tenant_id == tenant_id,
            or_(Template.name == base, Template.name.like(_like_prefix(f"{base} ("))),
        )
        return (await self.session.scalars(stmt)).all()

    def add(self, template: Template) -> None:
        self.session.add(template)

    async def delete(self, template: Template) -> None:
        await self.session.delete(template)

    async def list(
        self,
        tenant_id: UUID,
        params: PageParams,
        *,
        name: str | None = None,
        category: str | None = None,
        tag: str | None = None,
    ) -> Slice[Template]:
        stmt = select(Template).where(Template.tenant_id == tenant_id)
        if name:
            stmt = stmt.where(Template.name.ilike(_like_prefix(name)))
        if category:
            stmt = stmt.where(Template.category == category)
        if tag:
            stmt = stmt.where(Template.tags.any_() == tag)
        return await self.page(stmt, params, Template.name, Template.id)

    async def record_use(
        self, tenant_id: UUID, template_id: UUID, count: int, now: datetime
    ) -> int:
        """Add ``count`` uses in one statement; returns the rows changed (0: no such template)."""
        result = await self.session.execute(
            update(Template)
            .where(Template.tenant_id == tenant_id, Template.id == template_id)
            .values(use_count=Template.use_count + count, last_used_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class LibraryRepository(Repository):
    async def get(self, entry_id: UUID) -> LibraryTemplate | None:
        return await self.session.scalar(
            select(LibraryTemplate).where(LibraryTemplate.id == entry_id)
        )

    async def list(
        self, params: PageParams, *, category: str | None = None, tag: str | None = None
    ) -> Slice[LibraryTemplate]:
        stmt: Select[tuple[LibraryTemplate]] = select(LibraryTemplate)
        if category:
            stmt = stmt.where(LibraryTemplate.category == category)
        if tag:
            stmt = stmt.where(LibraryTemplate.tags.any_() == tag)
        return await self.page(stmt, params, LibraryTemplate.name, LibraryTemplate.id)

    async def count_use(self, tenant_id: UUID, entry_id: UUID, now: datetime) -> None:
        """One more use: the tenant's own row (upserted) and the global count, which the app
        role may only change through the database function made for it."""
        await self.session.execute(
            insert(TemplateUsage)
            .values(tenant_id=tenant_id, library_template_id=entry_id, used_count=1)
            .on_conflict_do_update(
                index_elements=[TemplateUsage.library_template_id, TemplateUsage.tenant_id],
                set_={"used_count": TemplateUsage.used_count + 1, "last_used_at": now},
            )
        )
        await self.session.execute(
            text("SELECT count_library_template_use(:entry)"), {"entry": entry_id}
        )
