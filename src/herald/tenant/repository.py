from __future__ import annotations

from uuid import UUID

from herald.kit.repository import Repository
from herald.tenant.models import Tenant


class TenantRepository(Repository):
    async def get(self, tenant_id: UUID) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    def add(self, tenant: Tenant) -> None:
        self.session.add(tenant)
