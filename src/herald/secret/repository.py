from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.pagination import PageParams, keyset
from herald.secret.models import TenantSecret


class SecretRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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

    async def list(self, tenant_id: UUID, params: PageParams) -> list[TenantSecret]:
        stmt = keyset(
            select(TenantSecret).where(TenantSecret.tenant_id == tenant_id),
            params,
            TenantSecret.name,
            TenantSecret.id,
        )
        return list(await self.session.scalars(stmt))

    def add(self, secret: TenantSecret) -> None:
        self.session.add(secret)

    async def delete(self, secret: TenantSecret) -> None:
        await self.session.delete(secret)
