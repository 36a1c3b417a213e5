"""``/v1/campaigns``: thin routes over the campaign service. Reads are the viewer's; every
write, action and export is the manager's."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from fastapi.responses import StreamingResponse

from herald.auth.dependencies import Manager, Viewer
from herald.campaign import service
from herald.campaign.models import CampaignStatus
from herald.campaign.schemas import (
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    Launched,
    Preflight,
    Report,
    ScheduleRequest,
)
from herald.kit.context import AuthContext
from herald.kit.pagination import Page, PageParams, page_of, page_params

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


def _author(auth: AuthContext) -> str | None:
    if auth.user_id is not None:
        return f"user:{auth.user_id}"
    if auth.api_key_id is not None:
        return f"api_key:{auth.api_key_id}"
    return None


@router.post(
    "", response_model=CampaignRead, status_code=status.HTTP_201_CREATED, summary="Draft one"
)
async def create_campaign(data: CampaignCreate, auth: Manager) -> CampaignRead:
    campaign = await service.create_campaign(auth.session, auth.tenant_id, data, _author(auth))
    return await service.present(auth.session, campaign)


@router.get("", response_model=Page[CampaignRead], summary="List campaigns, newest first")
async def list_campaigns(
    auth: Viewer,
    params: Annotated[PageParams, Depends(page_params)],
    status: CampaignStatus | None = None,
) -> Page[CampaignRead]:
    found = await service.list_campaigns(auth.session, auth.tenant_id, status, params)
    return page_of(found, CampaignRead)


@router.get("/{campaign_id}", response_model=CampaignRead, summary="Read one, with its stats")
async def read_campaign(campaign_id: UUID, auth: Viewer) -> CampaignRead:
    return await service.read_campaign(auth.session, auth.tenant_id, campaign_id)


@router.patch("/{campaign_id}", response_model=CampaignRead, summary="Change a draft")
async def update_campaign(campaign_id: UUID, data: CampaignUpdate, auth: Manager) -> CampaignRead:
    campaign = await service.update_campaign(auth.session, auth.tenant_id, campaign_id, data)
    return await service.present(auth.session, campaign)


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a draft")
async def delete_campaign(campaign_id: UUID, auth: Manager) -> Response:
    await service.delete_campaign(auth.session, auth.tenant_id, campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{campaign_id}/send",
    response_model=Launched,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Launch now: the audience becomes queued messages",
)
async def send_campaign(campaign_id: UUID, auth: Manager) -> Launched:
    campaign, added = await service.send_campaign(auth.session, auth.tenant_id, campaign_id)
    return Launched(campaign=await service.present(auth.session, campaign), messages=added)


@router.post("/{campaign_id}/schedule", response_model=CampaignRead, summary="Launch later")
async def schedule_campaign(
    campaign_id: UUID, data: ScheduleRequest, auth: Manager
) -> CampaignRead:
    campaign = await service.schedule_campaign(
        auth.session, auth.tenant_id, campaign_id, data.schedule
    )
    return await service.present(auth.session, campaign)


@router.post("/{campaign_id}/pause", response_model=CampaignRead, summary="Stop sending")
async def pause_campaign(campaign_id: UUID, auth: Manager) -> CampaignRead:
    campaign = await service.pause_campaign(auth.session, auth.tenant_id, campaign_id)
    return await service.present(auth.session, campaign)


@router.post("/{campaign_id}/resume", response_model=CampaignRead, summary="Send again")
async def resume_campaign(campaign_id: UUID, auth: Manager) -> CampaignRead:
    campaign = await service.resume_campaign(auth.session, auth.tenant_id, campaign_id)
    return await service.present(auth.session, campaign)


@router.post("/{campaign_id}/cancel", response_model=CampaignRead, summary="End for good")
async def cancel_campaign(campaign_id: UUID, auth: Manager) -> CampaignRead:
    campaign = await service.cancel_campaign(auth.session, auth.tenant_id, campaign_id)
    return await service.present(auth.session, campaign)


@router.post(
    "/{campaign_id}/duplicate",
    response_model=CampaignRead,
    status_code=status.HTTP_201_CREATED,
    summary="Copy as a new draft",
)
async def duplicate_campaign(campaign_id: UUID, auth: Manager) -> CampaignRead:
    campaign = await service.duplicate_campaign(
        auth.session, auth.tenant_id, campaign_id, _author(auth)
    )
    return await service.present(auth.session, campaign)


@router.get(
    "/{campaign_id}/preflight", response_model=Preflight, summary="What a launch now would do"
)
async def preflight(campaign_id: UUID, auth: Viewer) -> Preflight:
    return await service.preflight(auth.session, auth.tenant_id, campaign_id)


@router.get("/{campaign_id}/report", response_model=Report, summary="Funnel, cost, variants")
async def report(campaign_id: UUID, auth: Viewer) -> Report:
    return await service.report(auth.session, auth.tenant_id, campaign_id)


@router.get(
    "/{campaign_id}/messages.csv",
    response_class=StreamingResponse,
    summary="Every recipient's outcome, as CSV",
)
async def export_messages(campaign_id: UUID, auth: Manager) -> StreamingResponse:
    """Managers only: the file holds phone numbers. The campaign is checked before the
    response starts, so another tenant's id answers 404, not an empty file."""
    await service.get_campaign(auth.session, auth.tenant_id, campaign_id)
    rows = service.export_rows(auth.session, auth.tenant_id, campaign_id)
    return StreamingResponse(
        _csv(rows),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.csv"'},
    )


async def _csv(batches: AsyncIterator[Sequence[Any]]) -> AsyncIterator[str]:
    yield _line(service.EXPORT_COLUMNS)
    async for batch in batches:
        yield "".join(_line(row) for row in batch)


def _line(values: Sequence[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(["" if v is None else _text(v) for v in values])
    return out.getvalue()


def _text(value: Any) -> str:
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") and not text[1:2].isdigit() else text
