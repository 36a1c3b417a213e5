from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.errors import NotFound
from herald.tenant.models import Tenant, TenantStatus
from herald.tenant.repository import TenantRepository
from herald.tenant.schemas import TenantCreate, TenantUpdate


async def create_tenant(session: AsyncSession, data: TenantCreate) -> Tenant:
    tenant = Tenant(**data.model_dump(), settings={})
    TenantRepository(session).add(tenant)
    await session.flush()
    return tenant


async def get_tenant(session: AsyncSession, tenant_id: UUID) -> Tenant:
    tenant = await TenantRepository(session).get(tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant {tenant_id}.")
    return tenant


async def set_status(session: AsyncSession, tenant_id: UUID, status: TenantStatus) -> Tenant:
    """Suspend or resume a tenant (an operator's action: a suspended tenant's keys and users
    are refused on every request; its data is kept)."""
    tenant = await get_tenant(session, tenant_id)
    tenant.status = status
    await session.flush()
    return tenant


async def update_tenant(
    session: AsyncSession, tenant_id: UUID, data: TenantUpdate
) -> tuple[Tenant, dict[str, Any]]:
    """Apply the fields that were sent; return the tenant and what changed (for the audit log)."""
    tenant = await get_tenant(session, tenant_id)
    changes: dict[str, Any] = {}
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is not None and getattr(tenant, field) != value:
            changes[field] = value
            setattr(tenant, field, value)
    await session.flush()
    return tenant, changes
