from __future__ import annotations

from fastapi import APIRouter

from herald.auth.dependencies import Viewer
from herald.sms import service
from herald.sms.schemas import InspectionRead, InspectRequest

router = APIRouter(prefix="/v1/tools", tags=["tools"])


@router.post(
    "/sms-inspect",
    response_model=InspectionRead,
    summary="Encoding, segments and parts of an SMS body",
)
async def inspect_sms(data: InspectRequest, auth: Viewer) -> InspectionRead:
    found = await service.inspect_for_tenant(
        auth.session, auth.tenant_id, data.text, data.smart_encoding
    )
    return InspectionRead.model_validate(found)
