"""All SQL of WhatsApp templates."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select

from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.whatsapp.models import WhatsAppTemplate
from herald.whatsapp.schemas import TemplateFilters

T = WhatsAppTemplate


class TemplateRepository(Repository):
    async def get(
        self, tenant_id: UUID, template_id: UUID, *, for_update: bool = False
    ) -> WhatsAppTemplate | None:
        stmt = select(T).where(T.tenant_id == tenant_id, T.id == template_id)
        return await self.session.scalar(stmt.with_for_update() if for_update else stmt)

    async def find(
        self, tenant_id: UUID, channel_id: UUID | None, name: str, language: str
    ) -> WhatsAppTemplate | None:
        """The template holding a (channel, name, language) identity; no channel is one value."""
        return await self.session.scalar(
            select(T).where(
                T.tenant_id == tenant_id,
                T.channel_id.is_not_distinct_from(channel_id),
                T.name == name,
                T.language == language,
            )
        )

    def add(self, template: WhatsAppTemplate) -> None:
        self.session.add(template)

    async def delete(self, template: WhatsAppTemplate) -> None:
        await self.session.delete(template)

    async def list(
        self, tenant_id: UUID, filters: TemplateFilters, params: PageParams
    ) -> Slice[WhatsAppTemplate]:
        """Newest first (ids are time-ordered)."""
        stmt = select(T).where(T.tenant_id == tenant_id)
        for column, value in (
            (T.status, filters.status),
            (T.category, filters.category),
            (T.language, filters.language),
            (T.name, filters.name),
            (T.channel_id, filters.channel_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        return await self.page(stmt, params, T.id, T.id, descending=True)
