"""``/v1/budget``: the tenant's daily and monthly spending limits, what each period spent and
when it resets (Viewer reads, Admin sets)."""

from __future__ import annotations

from fastapi import APIRouter

from herald.auth.dependencies import Admin, Viewer
from herald.budget import service
from herald.budget.schemas import BudgetRead, BudgetUpdate
from herald.kit.models import utcnow

router = APIRouter(prefix="/v1/budget", tags=["budget"])


@router.get("", response_model=BudgetRead, summary="Limits, spent, reset times and status")
async def read_budget(auth: Viewer) -> BudgetRead:
    return await service.read_budget(auth.session, auth.tenant_id, utcnow())


@router.put("", response_model=BudgetRead, summary="Set the daily and monthly limits")
async def set_budget(data: BudgetUpdate, auth: Admin) -> BudgetRead:
    return await service.set_budget(auth.session, auth.tenant_id, data, utcnow())
