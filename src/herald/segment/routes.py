from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from herald.auth.dependencies import Manager, Viewer
from herald.contact.models import ChannelKind
from herald.kit.pagination import Page, PageParams, page_of, page_params
from herald.segment import service
from herald.segment.schemas import (
    MAX_SAMPLE,
    Preview,
    PreviewRequest,
    SegmentContact,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
)

router = APIRouter(prefix="/v1/segments", tags=["segments"])

Sample = Annotated[int, Query(ge=0, le=MAX_SAMPLE, description="Contacts to show.")]
ChannelQuery = Annotated[
    ChannelKind | None, Query(description="Also count who a campaign could reach there.")
]


@router.get("", response_model=Page[SegmentRead], summary="List segments by name")
async def list_segments(
    auth: Viewer, params: Annotated[PageParams, Depends(page_params)]
) -> Page[SegmentRead]:
    found = await service.list_segments(auth.session, auth.tenant_id, params)
    return page_of(found, SegmentRead)


@router.post(
    "",
    response_model=SegmentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a segment from rules or a preset (all, male, female, tag:<name>)",
)
async def create_segment(data: SegmentCreate, auth: Manager) -> SegmentRead:
    segment = await service.create_segment(auth.session, auth.tenant_id, data)
    return SegmentRead.model_validate(segment)


@router.post("/preview", response_model=Preview, summary="Count and sample rules without saving")
async def preview_rules(data: PreviewRequest, auth: Viewer) -> Preview:
    return await service.preview_rules(
        auth.session, auth.tenant_id, data.rules, data.sample, data.channel
    )


@router.get("/{segment_id}", response_model=SegmentRead, summary="Read a segment")
async def read_segment(segment_id: UUID, auth: Viewer) -> SegmentRead:
    segment = await service.get_segment(auth.session, auth.tenant_id, segment_id)
    return SegmentRead.model_validate(segment)


@router.patch("/{segment_id}", response_model=SegmentRead, summary="Change a segment")
async def update_segment(segment_id: UUID, data: SegmentUpdate, auth: Manager) -> SegmentRead:
    segment = await service.update_segment(auth.session, auth.tenant_id, segment_id, data)
    return SegmentRead.model_validate(segment)


@router.delete("/{segment_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a segment")
async def delete_segment(segment_id: UUID, auth: Manager) -> Response:
    await service.delete_segment(auth.session, auth.tenant_id, segment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{segment_id}/preview", response_model=Preview, summary="Who the rules match right now"
)
async def preview_segment(
    segment_id: UUID, auth: Viewer, sample: Sample = 20, channel: ChannelQuery = None
) -> Preview:
    return await service.preview_segment(auth.session, auth.tenant_id, segment_id, sample, channel)


@router.post(
    "/{segment_id}/refresh", response_model=SegmentRead, summary="Materialize the memberships"
)
async def refresh_segment(segment_id: UUID, auth: Manager) -> SegmentRead:
    segment = await service.refresh_segment(auth.session, auth.tenant_id, segment_id)
    return SegmentRead.model_validate(segment)


@router.get(
    "/{segment_id}/contacts",
    response_model=Page[SegmentContact],
    summary="Members as of the last refresh",
)
async def list_members(
    segment_id: UUID, auth: Viewer, params: Annotated[PageParams, Depends(page_params)]
) -> Page[SegmentContact]:
    found = await service.list_members(auth.session, auth.tenant_id, segment_id, params)
    return page_of(found, SegmentContact)
