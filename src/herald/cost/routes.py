from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import AwareDatetime

from herald.auth.dependencies import Admin, Viewer
from herald.contact.models import ChannelKind
from herald.cost import service
from herald.cost.models import PriceOwner
from herald.cost.repository import PriceFilter
from herald.cost.schemas import (
    AudienceCostRead,
    AudienceQuoteRequest,
    PriceCreate,
    PriceRead,
    PriceUpdate,
    QuoteRead,
    QuoteRequest,
)
from herald.kit.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/v1/costs", tags=["costs"])


def price_filter(
    provider: Annotated[str | None, Query(max_length=40)] = None,
    kind: ChannelKind | None = None,
    country: Annotated[str | None, Query(pattern=r"^([A-Z]{2}|\*)$")] = None,
    owner: Annotated[PriceOwner, Query(description="platform, tenant or all")] = PriceOwner.all,
    at: Annotated[AwareDatetime | None, Query(description="Only prices in effect then.")] = None,
) -> PriceFilter:
    return PriceFilter(provider=provider, kind=kind, country=country, owner=owner, at=at)


@router.get("", response_model=Page[PriceRead], summary="List prices, platform's and own")
async def list_prices(
    auth: Viewer,
    where: Annotated[PriceFilter, Depends(price_filter)],
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[PriceRead]:
    rows = await service.list_prices(auth.session, auth.tenant_id, where, params)
    return Page(items=[PriceRead.of(p) for p in rows.items], next_cursor=rows.next_cursor)


@router.post(
    "",
    response_model=PriceRead,
    status_code=status.HTTP_201_CREATED,
    summary="Override a price for this account",
)
async def create_price(data: PriceCreate, auth: Admin) -> PriceRead:
    return PriceRead.of(await service.create_price(auth.session, auth.tenant_id, data))


@router.post("/quote", response_model=QuoteRead, summary="Price one message")
async def quote(data: QuoteRequest, auth: Viewer) -> QuoteRead:
    return QuoteRead.of(await service.quote(auth.session, auth.tenant_id, data))


@router.post(
    "/quote-audience",
    response_model=AudienceCostRead,
    summary="Price one message to every eligible contact of a segment or the account",
)
async def quote_audience(data: AudienceQuoteRequest, auth: Viewer) -> AudienceCostRead:
    return AudienceCostRead.of(await service.quote_audience(auth.session, auth.tenant_id, data))


@router.get("/{price_id}", response_model=PriceRead, summary="Read a price")
async def read_price(price_id: UUID, auth: Viewer) -> PriceRead:
    return PriceRead.of(await service.get_price(auth.session, auth.tenant_id, price_id))


@router.patch(
    "/{price_id}", response_model=PriceRead, summary="Change one of this account's prices"
)
async def update_price(price_id: UUID, data: PriceUpdate, auth: Admin) -> PriceRead:
    return PriceRead.of(await service.update_price(auth.session, auth.tenant_id, price_id, data))


@router.delete(
    "/{price_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete one of this account's prices",
)
async def delete_price(price_id: UUID, auth: Admin) -> Response:
    await service.delete_price(auth.session, auth.tenant_id, price_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
