from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, insert, or_, select

from herald.audit.models import AuditEntry
from herald.audit.schemas import AuditFilters
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository


def insert_entries(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Write entries on the connection of a flush in progress (same transaction)."""
    connection.execute(insert(AuditEntry), list(rows))


class AuditRepository(Repository):
    async def add(self, row: dict[str, Any]) -> None:
        await self.session.execute(insert(AuditEntry), [row])

    async def list(
        self, tenant_id: UUID, filters: AuditFilters, params: PageParams
    ) -> Slice[AuditEntry]:
        stmt = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
        if filters.actor is not None:
            stmt = stmt.where(
                or_(
                    AuditEntry.actor_user_id == filters.actor,
                    AuditEntry.actor_api_key_id == filters.actor,
                )
            )
        for column, value in (
            (AuditEntry.action, filters.action),
            (AuditEntry.resource_type, filters.resource_type),
            (AuditEntry.resource_id, filters.resource_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if filters.since is not None:
            stmt = stmt.where(AuditEntry.created_at >= filters.since)
        if filters.until is not None:
            stmt = stmt.where(AuditEntry.created_at < filters.until)
        return await self.page(stmt, params, AuditEntry.created_at, AuditEntry.id, descending=True)
