from __future__ import annotations

from uuid import UUID

from sqlalchemy import select, text

from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.secret.models import TenantSecret


class SecretRepository(Repository):
    async def lock(self, tenant_id: UUID, name: str) -> None:
        """Queue behind any other transaction writing this secret, until this one ends."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"secret:{tenant_id}:{name}"},
        )

    async def get(self, tenant_id: UUID, name: str) -> TenantSecret | None:
        return await self.session.scalar(
            select(TenantSecret).where(
                TenantSecret.tenant_id == tenant_id, TenantSecret.name == name
            )
        )

    async def value(self, tenant_id: UUID, name: str) -> str | None:
        return await self.session.scalar(
            select(TenantSecret.value).where(
                TenantSecret.tenant_id == tenant_id, TenantSecret.name == name
            )
        )

    async def list(self, tenant_id: UUID, params: PageParams) -> Slice[TenantSecret]:
        stmt = select(TenantSecret).where(TenantSecret.tenant_id == tenant_id)
        return await self.page(stmt, params, TenantSecret.name, TenantSecret.id)

    def add(self, secret: TenantSecret) -> None:
        self.session.add(secret)

    async def delete(self, secret: TenantSecret) -> None:
        await self.session.delete(secret)
