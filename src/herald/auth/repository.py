from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.models import ApiKey
from herald.kit.pagination import PageParams, keyset


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_prefix(self, prefix: str) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))

    async def get(self, tenant_id: UUID, key_id: UUID) -> ApiKey | None:
        return await self.session.scalar(
            select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
        )

    async def list(self, tenant_id: UUID, params: PageParams) -> list[ApiKey]:
        stmt = keyset(
            select(ApiKey).where(ApiKey.tenant_id == tenant_id), params, ApiKey.id, ApiKey.id
        )
        return list(await self.session.scalars(stmt))

    def add(self, key: ApiKey) -> None:
        self.session.add(key)

    async def touch(self, key_id: UUID, now: datetime) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
        )
