"""``/v1/channels`` and ``/v1/sender-pools``: thin routes over the channel service and flows.

Reads are Viewer; channel writes are Admin (a channel holds credentials); pausing, resuming and
template submission are Manager; sender pools (no credentials) are Manager."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from herald.auth.dependencies import Admin, Manager, Viewer, get_app_settings
from herald.channel import flows, service
from herald.channel.models import ChannelStatus
from herald.channel.schemas import (
    ChannelCreate,
    ChannelFilters,
    ChannelRead,
    ChannelUpdate,
    CredentialResult,
    PauseRequest,
    PoolCreate,
    PoolRead,
    PoolUpdate,
    SubmitTemplate,
    SyncResult,
)
from herald.contact.models import ChannelKind
from herald.kit.pagination import Page, PageParams, page_params
from herald.settings import Settings
from herald.whatsapp.schemas import TemplateRead

channels = APIRouter(prefix="/v1/channels", tags=["channels"])
pools = APIRouter(prefix="/v1/sender-pools", tags=["sender pools"])
Params = Annotated[PageParams, Depends(page_params)]


async def channel_filters(
    kind: Annotated[ChannelKind | None, Query()] = None,
    provider: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[ChannelStatus | None, Query()] = None,
) -> ChannelFilters:
    return ChannelFilters(kind=kind, provider=provider, status=status)


@channels.get("", response_model=Page[ChannelRead], summary="List channels by name")
async def list_channels(
    auth: Viewer, params: Params, filters: Annotated[ChannelFilters, Depends(channel_filters)]
) -> Page[ChannelRead]:
    return await service.list_channels(auth.session, auth.tenant_id, filters, params)


@channels.post(
    "",
    response_model=ChannelRead,
    status_code=status.HTTP_201_CREATED,
    summary="Connect a sender account on a provider",
)
async def create_channel(
    data: ChannelCreate,
    auth: Admin,
    settings: Annotated[Settings, Depends(get_app_settings)],
) -> ChannelRead:
    channel = await service.create_channel(auth.session, auth.tenant_id, data, settings.base_url)
    return service.present(channel)


@channels.get("/{channel_id}", response_model=ChannelRead, summary="Read a channel")
async def read_channel(channel_id: UUID, auth: Viewer) -> ChannelRead:
    return service.present(await service.get_channel(auth.session, auth.tenant_id, channel_id))


@channels.patch("/{channel_id}", response_model=ChannelRead, summary="Change a channel")
async def update_channel(
    channel_id: UUID,
    data: ChannelUpdate,
    auth: Admin,
    settings: Annotated[Settings, Depends(get_app_settings)],
) -> ChannelRead:
    channel = await service.update_channel(
        auth.session, auth.tenant_id, channel_id, data, settings.base_url
    )
    return service.present(channel)


@channels.delete(
    "/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a channel no message refers to",
)
async def delete_channel(channel_id: UUID, auth: Admin) -> Response:
    await service.delete_channel(auth.session, auth.tenant_id, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@channels.post("/{channel_id}/pause", response_model=ChannelRead, summary="Stop sending")
async def pause_channel(
    channel_id: UUID, auth: Manager, data: PauseRequest | None = None
) -> ChannelRead:
    reason = data.reason if data else None
    channel = await service.pause_channel(auth.session, auth.tenant_id, channel_id, reason)
    return service.present(channel)


@channels.post(
    "/{channel_id}/resume", response_model=ChannelRead, summary="Send again (closes the breaker)"
)
async def resume_channel(channel_id: UUID, auth: Manager) -> ChannelRead:
    channel = await service.resume_channel(auth.session, auth.tenant_id, channel_id)
    return service.present(channel)


@channels.post(
    "/{channel_id}/test",
    response_model=CredentialResult,
    summary="Check the credentials against the provider",
)
async def check_credentials(channel_id: UUID, auth: Admin) -> CredentialResult:
    return await flows.check_credentials(auth.session, auth.tenant_id, channel_id)


@channels.post(
    "/{channel_id}/submit-template",
    response_model=TemplateRead,
    summary="Submit a WhatsApp template to Meta for review",
)
async def submit_template(channel_id: UUID, data: SubmitTemplate, auth: Manager) -> TemplateRead:
    template = await flows.submit_template(
        auth.session, auth.tenant_id, channel_id, data.template_id
    )
    return TemplateRead.model_validate(template)


@channels.post(
    "/{channel_id}/sync-templates",
    response_model=SyncResult,
    summary="Pull the account's WhatsApp templates and statuses from Meta now",
)
async def sync_templates(channel_id: UUID, auth: Manager) -> SyncResult:
    return await flows.sync_templates(auth.session, auth.tenant_id, channel_id)


@pools.get("", response_model=Page[PoolRead], summary="List sender pools by name")
async def list_pools(auth: Viewer, params: Params) -> Page[PoolRead]:
    return await service.list_pools(auth.session, auth.tenant_id, params)


@pools.post(
    "", response_model=PoolRead, status_code=status.HTTP_201_CREATED, summary="Create a pool"
)
async def create_pool(data: PoolCreate, auth: Manager) -> PoolRead:
    return await service.create_pool(auth.session, auth.tenant_id, data)


@pools.get("/{pool_id}", response_model=PoolRead, summary="Read a sender pool")
async def read_pool(pool_id: UUID, auth: Viewer) -> PoolRead:
    return await service.get_pool(auth.session, auth.tenant_id, pool_id)


@pools.patch("/{pool_id}", response_model=PoolRead, summary="Rename or change the members")
async def update_pool(pool_id: UUID, data: PoolUpdate, auth: Manager) -> PoolRead:
    return await service.update_pool(auth.session, auth.tenant_id, pool_id, data)


@pools.delete("/{pool_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a sender pool")
async def delete_pool(pool_id: UUID, auth: Manager) -> Response:
    await service.delete_pool(auth.session, auth.tenant_id, pool_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
