from __future__ import annotations

from fastapi import APIRouter

from herald.auth.dependencies import Admin, Viewer
from herald.tenant import service
from herald.tenant.schemas import TenantRead, TenantUpdate

router = APIRouter(prefix="/v1/tenant", tags=["tenant"])


@router.get("", response_model=TenantRead, summary="The caller's tenant")
async def read_tenant(auth: Viewer) -> TenantRead:
    tenant = await service.get_tenant(auth.session, auth.tenant_id)
    return TenantRead.model_validate(tenant)


@router.patch("", response_model=TenantRead, summary="Change the tenant's settings")
async def update_tenant(data: TenantUpdate, auth: Admin) -> TenantRead:
    tenant, _changes = await service.update_tenant(auth.session, auth.tenant_id, data)
    return TenantRead.model_validate(tenant)
