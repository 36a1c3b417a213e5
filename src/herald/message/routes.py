from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, status

from herald.auth.dependencies import Agent, Viewer
from herald.contact.eligibility import Purpose
from herald.kit.context import Role
from herald.kit.errors import Forbidden
from herald.kit.pagination import Page, PageParams, page_of, page_params
from herald.message import service
from herald.message.models import Direction, EventType, MessageStatus
from herald.message.schemas import (
    EventFilters,
    EventRead,
    MessageCreate,
    MessageFilters,
    MessageRead,
)

router = APIRouter(prefix="/v1/messages", tags=["messages"])
events = APIRouter(prefix="/v1/events", tags=["events"])

Since = Annotated[datetime | None, Query(description="From this time on (inclusive).")]
Until = Annotated[datetime | None, Query(description="Before this time (exclusive).")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retry safely: the same key answers the same message, never a second send.",
    ),
]


async def message_filters(
    channel_id: UUID | None = None,
    contact_id: UUID | None = None,
    campaign_id: UUID | None = None,
    status: MessageStatus | None = None,
    direction: Direction | None = None,
    since: Since = None,
    until: Until = None,
) -> MessageFilters:
    return MessageFilters(channel_id, contact_id, campaign_id, status, direction, since, until)


async def event_filters(
    type: EventType | None = None,
    message_id: UUID | None = None,
    contact_id: UUID | None = None,
    campaign_id: UUID | None = None,
    since: Since = None,
    until: Until = None,
) -> EventFilters:
    return EventFilters(type, message_id, contact_id, campaign_id, since, until)


@router.post(
    "",
    response_model=MessageRead,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send one message (queued now, sent by the workers)",
)
async def send_message(
    data: MessageCreate, auth: Agent, idempotency_key: IdempotencyKey = None
) -> MessageRead:
    """Agents answer customers (transactional); marketing is a manager's decision."""
    if data.purpose is Purpose.marketing and not auth.role.at_least(Role.manager):
        raise Forbidden(
            f"Marketing messages need the manager role or higher; you are {auth.role.value}. "
            "Send it as 'transactional' if it answers the customer."
        )
    message = await service.create_message(auth.session, auth.tenant_id, data, idempotency_key)
    return MessageRead.model_validate(message)


@router.get("", response_model=Page[MessageRead], summary="List messages, newest first")
async def list_messages(
    auth: Viewer,
    filters: Annotated[MessageFilters, Depends(message_filters)],
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[MessageRead]:
    found = await service.list_messages(auth.session, auth.tenant_id, filters, params)
    return page_of(found, MessageRead)


@router.get("/{message_id}", response_model=MessageRead, summary="Read a message")
async def read_message(message_id: UUID, auth: Viewer) -> MessageRead:
    message = await service.get_message(auth.session, auth.tenant_id, message_id)
    return MessageRead.model_validate(message)


@events.get("", response_model=Page[EventRead], summary="List message events, newest first")
async def list_events(
    auth: Viewer,
    filters: Annotated[EventFilters, Depends(event_filters)],
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[EventRead]:
    found = await service.list_events(auth.session, auth.tenant_id, filters, params)
    return page_of(found, EventRead)
