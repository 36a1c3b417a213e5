"""The inbox API: ``/v1/conversations`` (threads, replies, notes, media) and
``/v1/inbox`` (canned replies, keyword settings). Agents answer, viewers read, admins set the
keywords."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from herald.auth.dependencies import Admin, Agent, Viewer
from herald.inbox import service
from herald.inbox.models import ConversationStatus
from herald.inbox.schemas import (
    CannedReplyCreate,
    CannedReplyRead,
    CannedReplyUpdate,
    ConversationFilters,
    ConversationRead,
    ConversationUpdate,
    KeywordConfig,
    KeywordSettingsRead,
    NoteCreate,
    NoteRead,
    ReplyCreate,
    ThreadMessage,
)
from herald.kit.pagination import Page, PageParams, page_of, page_params
from herald.message.routes import IdempotencyKey
from herald.message.schemas import MessageRead

conversations = APIRouter(prefix="/v1/conversations", tags=["inbox"])
inbox = APIRouter(prefix="/v1/inbox", tags=["inbox"])

Params = Annotated[PageParams, Depends(page_params)]


async def conversation_filters(
    status: Annotated[ConversationStatus | None, Query()] = None,
    assigned_to: Annotated[UUID | None, Query(description="A member's user id.")] = None,
    unassigned: Annotated[bool, Query()] = False,
    unread: Annotated[bool | None, Query()] = None,
    channel_id: Annotated[UUID | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
) -> ConversationFilters:
    try:
        return ConversationFilters(
            status=status,
            assigned_to=assigned_to,
            unassigned=unassigned,
            unread=unread,
            channel_id=channel_id,
            tag=tag,
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


@conversations.get(
    "", response_model=Page[ConversationRead], summary="Conversations, newest activity first"
)
async def list_conversations(
    auth: Viewer,
    params: Params,
    filters: Annotated[ConversationFilters, Depends(conversation_filters)],
) -> Page[ConversationRead]:
    return await service.list_conversations(auth.session, auth.tenant_id, filters, params)


@conversations.get("/{conversation_id}", response_model=ConversationRead, summary="A conversation")
async def read_conversation(conversation_id: UUID, auth: Viewer) -> ConversationRead:
    found = await service.get_conversation(auth.session, auth.tenant_id, conversation_id)
    return await service.read_one(auth.session, found)


@conversations.patch(
    "/{conversation_id}",
    response_model=ConversationRead,
    summary="Assign, open, snooze or close a conversation, or set its tags",
)
async def update_conversation(
    conversation_id: UUID, data: ConversationUpdate, auth: Agent
) -> ConversationRead:
    found = await service.update_conversation(auth.session, auth.tenant_id, conversation_id, data)
    return await service.read_one(auth.session, found)


@conversations.post(
    "/{conversation_id}/read", response_model=ConversationRead, summary="Mark everything read"
)
async def mark_read(conversation_id: UUID, auth: Agent) -> ConversationRead:
    found = await service.mark_read(auth.session, auth.tenant_id, conversation_id)
    return await service.read_one(auth.session, found)


@conversations.get(
    "/{conversation_id}/messages",
    response_model=Page[ThreadMessage],
    summary="The thread, newest first",
)
async def list_thread(conversation_id: UUID, auth: Viewer, params: Params) -> Page[ThreadMessage]:
    return await service.thread(auth.session, auth.tenant_id, conversation_id, params)


@conversations.get(
    "/{conversation_id}/messages/{message_id}/media",
    summary="Download a media the contact sent (WhatsApp), through the channel",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_media(
    conversation_id: UUID,
    message_id: UUID,
    auth: Viewer,
    index: Annotated[int, Query(ge=0, le=9, description="Which media of the message.")] = 0,
) -> Response:
    media = await service.download_media(
        auth.session, auth.tenant_id, conversation_id, message_id, index
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{message_id}-{index}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(content=media.data, media_type=media.content_type, headers=headers)


@conversations.post(
    "/{conversation_id}/replies",
    response_model=MessageRead,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Answer: SMS free text; WhatsApp free text inside the 24-hour window, else a template",
)
async def reply(
    conversation_id: UUID,
    data: ReplyCreate,
    auth: Agent,
    idempotency_key: IdempotencyKey = None,
) -> MessageRead:
    message = await service.reply(
        auth.session, auth.tenant_id, conversation_id, data, idempotency_key
    )
    return MessageRead.model_validate(message)


@conversations.post(
    "/{conversation_id}/notes",
    response_model=NoteRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add an internal note (never sent)",
)
async def add_note(conversation_id: UUID, data: NoteCreate, auth: Agent) -> NoteRead:
    note = await service.add_note(auth.session, auth.tenant_id, conversation_id, data, auth.actor)
    return NoteRead.model_validate(note)


@conversations.get(
    "/{conversation_id}/notes", response_model=Page[NoteRead], summary="Notes, oldest first"
)
async def list_notes(conversation_id: UUID, auth: Viewer, params: Params) -> Page[NoteRead]:
    found = await service.list_notes(auth.session, auth.tenant_id, conversation_id, params)
    return page_of(found, NoteRead)


@inbox.get(
    "/canned-replies", response_model=Page[CannedReplyRead], summary="Canned replies by name"
)
async def list_canned_replies(auth: Viewer, params: Params) -> Page[CannedReplyRead]:
    found = await service.list_canned_replies(auth.session, auth.tenant_id, params)
    return page_of(found, CannedReplyRead)


@inbox.post(
    "/canned-replies",
    response_model=CannedReplyRead,
    status_code=status.HTTP_201_CREATED,
    summary="Save a canned reply",
)
async def create_canned_reply(data: CannedReplyCreate, auth: Agent) -> CannedReplyRead:
    found = await service.create_canned_reply(auth.session, auth.tenant_id, data)
    return CannedReplyRead.model_validate(found)


@inbox.get("/canned-replies/{reply_id}", response_model=CannedReplyRead, summary="A canned reply")
async def read_canned_reply(reply_id: UUID, auth: Viewer) -> CannedReplyRead:
    found = await service.get_canned_reply(auth.session, auth.tenant_id, reply_id)
    return CannedReplyRead.model_validate(found)


@inbox.patch(
    "/canned-replies/{reply_id}", response_model=CannedReplyRead, summary="Change a canned reply"
)
async def update_canned_reply(
    reply_id: UUID, data: CannedReplyUpdate, auth: Agent
) -> CannedReplyRead:
    found = await service.update_canned_reply(auth.session, auth.tenant_id, reply_id, data)
    return CannedReplyRead.model_validate(found)


@inbox.delete(
    "/canned-replies/{reply_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a canned reply",
)
async def delete_canned_reply(reply_id: UUID, auth: Agent) -> Response:
    await service.delete_canned_reply(auth.session, auth.tenant_id, reply_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@inbox.get("/keywords", response_model=KeywordSettingsRead, summary="Keyword words and replies")
async def read_keywords(auth: Viewer) -> KeywordSettingsRead:
    return await service.keyword_settings(auth.session, auth.tenant_id)


@inbox.put(
    "/keywords",
    response_model=KeywordSettingsRead,
    summary="Replace the tenant's keyword words and replies (built-in words always apply)",
)
async def save_keywords(data: KeywordConfig, auth: Admin) -> KeywordSettingsRead:
    return await service.save_keyword_settings(auth.session, auth.tenant_id, data)
