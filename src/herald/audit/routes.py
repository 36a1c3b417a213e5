from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from herald.audit import service
from herald.audit.schemas import AuditEntryRead, AuditFilters
from herald.auth.dependencies import Admin
from herald.kit.pagination import Page, PageParams, page_of, page_params

router = APIRouter(prefix="/v1/audit-log", tags=["audit log"])


@router.get("", response_model=Page[AuditEntryRead], summary="Who changed what, newest first")
async def list_audit_log(
    auth: Admin,
    filters: Annotated[AuditFilters, Query()],
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[AuditEntryRead]:
    found = await service.list_entries(auth.session, auth.tenant_id, filters, params)
    return page_of(found, AuditEntryRead)
