from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from herald.auth.dependencies import AppSettings, Manager, Viewer
from herald.kit.database import Database
from herald.kit.pagination import Page, PageParams, page_params
from herald.link import service
from herald.link.agents import classify
from herald.link.pages import NO_STORE, expired_page, unknown_page
from herald.link.schemas import LinkCreate, LinkRead
from herald.link.tokens import token_key

router = APIRouter(prefix="/v1/links", tags=["links"])


@router.post(
    "",
    response_model=LinkRead,
    status_code=status.HTTP_201_CREATED,
    summary="Shorten a URL (with UTM parameters, optionally a discount code)",
)
async def create_link(data: LinkCreate, auth: Manager, settings: AppSettings) -> LinkRead:
    return await service.create_link(auth.session, settings, auth.tenant_id, data)


@router.get("", response_model=Page[LinkRead], summary="List links, newest first")
async def list_links(
    auth: Viewer,
    settings: AppSettings,
    params: Annotated[PageParams, Depends(page_params)],
    campaign_id: Annotated[UUID | None, Query(description="Only this campaign's links.")] = None,
    contact_id: Annotated[UUID | None, Query(description="Only this contact's links.")] = None,
) -> Page[LinkRead]:
    page = await service.list_links(
        auth.session,
        settings,
        auth.tenant_id,
        params,
        campaign_id=campaign_id,
        contact_id=contact_id,
    )
    return Page(items=page.items, next_cursor=page.next_cursor)


@router.get("/{link_id}", response_model=LinkRead, summary="Read a link and its click counts")
async def read_link(link_id: UUID, auth: Viewer, settings: AppSettings) -> LinkRead:
    return await service.get_link(auth.session, settings, auth.tenant_id, link_id)


redirects = APIRouter(tags=["links"])


@redirects.api_route(
    f"{service.REDIRECT_PATH}{{token}}", methods=["GET", "HEAD"], include_in_schema=False
)
async def follow_link(token: str, request: Request) -> Response:
    """``GET /l/{token}``: no authentication and no request transaction (a link is followed by
    whoever holds its token); one statement on an autocommit connection per click."""
    db: Database = request.app.state.db
    key = token_key(request.app.state.settings)
    visitor = classify(request.method, request.headers.get("user-agent"))
    click = await service.follow(db, key, token, visitor)
    if click.redirect_url is not None:
        return RedirectResponse(click.redirect_url, status_code=302, headers=NO_STORE)
    return expired_page() if click.known else unknown_page()
