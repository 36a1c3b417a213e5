"""All SQL of the inbox. Inbound messages arrive in batches, so their writes take arrays (one
statement per step whatever the batch size); the conversation list reads ``conversations``
alone, never an aggregate over ``messages``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Select, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from herald.contact.models import ChannelKind, ConsentStatus, Contact
from herald.inbox.models import (
    CannedReply,
    ComplianceReply,
    Conversation,
    ConversationNote,
    ConversationStatus,
    InboundContent,
    KeywordKind,
    KeywordSettings,
)
from herald.inbox.schemas import ConversationFilters
from herald.kit.context import Role
from herald.kit.ids import new_id
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.message.models import Direction, Message
from herald.user.models import Membership


@dataclass(frozen=True, slots=True)
class Sender:
    """A contact as the inbound pipeline needs it."""

    contact_id: UUID
    language: str | None
    sms_status: ConsentStatus
    whatsapp_status: ConsentStatus

    def consent(self, kind: ChannelKind) -> ConsentStatus:
        return self.sms_status if kind is ChannelKind.sms else self.whatsapp_status


@dataclass(frozen=True, slots=True)
class InboundRow:
    id: UUID
    contact_id: UUID
    provider_message_id: str
    sender: str
    to: str
    body: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Activity:
    """A contact's newest message of a batch and how many the batch holds."""

    contact_id: UUID
    message_id: UUID
    at: datetime
    count: int


_NEW_CONTACTS = text(
    """
    INSERT INTO contacts (id, tenant_id, phone_e164, source)
    SELECT v.id, :tenant_id, v.phone, :source
    FROM unnest(CAST(:ids AS uuid[]), CAST(:phones AS text[])) AS v(id, phone)
    ON CONFLICT (tenant_id, phone_e164) DO NOTHING
    """
)

_INBOUND = text(
    """
    INSERT INTO messages (id, tenant_id, channel_id, contact_id, direction, purpose, status,
                          to_address, from_address, body, provider_message_id, received_at,
                          queued_at, next_attempt_at, created_at, updated_at)
    SELECT v.id, :tenant_id, :channel_id, v.contact_id, 'inbound', 'transactional', 'received',
           v.to_address, v.from_address, v.body, v.provider_id, v.received_at,
           :now, :now, :now, :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:contact_ids AS uuid[]), CAST(:tos AS text[]),
                CAST(:froms AS text[]), CAST(:bodies AS text[]), CAST(:provider_ids AS text[]),
                CAST(:received AS timestamptz[]))
         AS v(id, contact_id, to_address, from_address, body, provider_id, received_at)
    ON CONFLICT (channel_id, provider_message_id) WHERE direction = 'inbound' DO NOTHING
    RETURNING id
    """
)
"""A provider's retry of a message already stored conflicts on the partial unique index and
is skipped: ``RETURNING`` names only the new ones."""

_CONVERSATIONS = text(
    """
    INSERT INTO conversations AS c (id, tenant_id, contact_id, channel_id, status, unread_count,
                                    last_message_id, last_message_at, last_direction,
                                    window_expires_at, created_at, updated_at)
    SELECT v.id, :tenant_id, v.contact_id, :channel_id, 'open', v.count, v.message_id, v.at,
           'inbound', v.window_until, :now, :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:contact_ids AS uuid[]), CAST(:counts AS integer[]),
                CAST(:message_ids AS uuid[]), CAST(:ats AS timestamptz[]),
                CAST(:windows AS timestamptz[]))
         AS v(id, contact_id, count, message_id, at, window_until)
    ON CONFLICT (tenant_id, contact_id, channel_id) DO UPDATE
    SET unread_count = c.unread_count + excluded.unread_count,
        last_message_id = CASE WHEN excluded.last_message_at >= c.last_message_at
                               THEN excluded.last_message_id ELSE c.last_message_id END,
        last_direction = CASE WHEN excluded.last_message_at >= c.last_message_at
                              THEN 'inbound' ELSE c.last_direction END,
        last_message_at = GREATEST(c.last_message_at, excluded.last_message_at),
        window_expires_at = GREATEST(c.window_expires_at, excluded.window_expires_at),
        status = 'open', snoozed_until = NULL, updated_at = :now
    """
)
"""An inbound message reopens a closed or snoozed conversation: someone is waiting."""

_LAST_CAMPAIGNS = text(
    """
    SELECT DISTINCT ON (m.contact_id) m.contact_id, m.campaign_id
    FROM messages m
    WHERE m.tenant_id = :tenant_id AND m.contact_id = ANY(CAST(:contact_ids AS uuid[]))
      AND m.direction = 'outbound' AND m.campaign_id IS NOT NULL
    ORDER BY m.contact_id, m.created_at DESC
    """
)


def _json(values: Sequence[Any]) -> list[str]:
    return [orjson.dumps(value).decode() for value in values]


class InboxRepository(Repository):
    # --- inbound ------------------------------------------------------------------------------

    async def senders(
        self, tenant_id: UUID, phones: Sequence[str], source: str
    ) -> dict[str, Sender]:
        """The contact holding each number, created (with ``source``) where there is none:
        one insert for the missing ones, one select for all."""
        await self.session.execute(
            _NEW_CONTACTS,
            {
                "tenant_id": tenant_id,
                "source": source,
                "ids": [new_id() for _ in phones],
                "phones": list(phones),
            },
        )
        rows = await self.session.execute(
            select(
                Contact.phone_e164,
                Contact.id,
                Contact.language,
                Contact.sms_status,
                Contact.whatsapp_status,
            ).where(Contact.tenant_id == tenant_id, Contact.phone_e164.in_(phones))
        )
        return {
            phone: Sender(contact_id, language, ConsentStatus(sms), ConsentStatus(whatsapp))
            for phone, contact_id, language, sms, whatsapp in rows
            if phone is not None
        }

    async def insert_inbound(
        self, tenant_id: UUID, channel_id: UUID, rows: Sequence[InboundRow], now: datetime
    ) -> set[UUID]:
        """Store the inbound messages not stored before; returns the ids of the new ones."""
        stored = await self.session.scalars(
            _INBOUND,
            {
                "tenant_id": tenant_id,
                "channel_id": channel_id,
                "now": now,
                "ids": [r.id for r in rows],
                "contact_ids": [r.contact_id for r in rows],
                "tos": [r.to for r in rows],
                "froms": [r.sender for r in rows],
                "bodies": [r.body for r in rows],
                "provider_ids": [r.provider_message_id for r in rows],
                "received": [r.received_at for r in rows],
            },
        )
        return set(stored)

    async def insert_contents(
        self,
        tenant_id: UUID,
        contents: Sequence[tuple[UUID, list[dict[str, Any]], dict[str, Any] | None]],
    ) -> None:
        if not contents:
            return
        await self.session.execute(
            text(
                """
                INSERT INTO inbound_contents (message_id, tenant_id, media, location)
                SELECT v.id, :tenant_id, v.media, v.location
                FROM unnest(CAST(:ids AS uuid[]), CAST(:media AS jsonb[]),
                            CAST(:locations AS jsonb[])) AS v(id, media, location)
                """
            ),
            {
                "tenant_id": tenant_id,
                "ids": [c[0] for c in contents],
                "media": _json([c[1] for c in contents]),
                "locations": [
                    None if c[2] is None else orjson.dumps(c[2]).decode() for c in contents
                ],
            },
        )

    async def keep_profile_names(self, tenant_id: UUID, names: dict[UUID, str]) -> None:
        """Keep each WhatsApp profile name in the contact's ``whatsapp_profile_name`` field."""
        if not names:
            return
        await self.session.execute(
            text(
                """
                UPDATE contacts k
                SET custom_fields = k.custom_fields
                        || jsonb_build_object('whatsapp_profile_name', v.name),
                    updated_at = now()
                FROM unnest(CAST(:ids AS uuid[]), CAST(:names AS text[])) AS v(id, name)
                WHERE k.tenant_id = :tenant_id AND k.id = v.id
                  AND k.custom_fields ->> 'whatsapp_profile_name' IS DISTINCT FROM v.name
                """
            ),
            {"tenant_id": tenant_id, "ids": list(names), "names": list(names.values())},
        )

    async def upsert_conversations(
        self,
        tenant_id: UUID,
        channel_id: UUID,
        activity: Sequence[Activity],
        windows: Sequence[datetime | None],
        now: datetime,
    ) -> None:
        await self.session.execute(
            _CONVERSATIONS,
            {
                "tenant_id": tenant_id,
                "channel_id": channel_id,
                "now": now,
                "ids": [new_id() for _ in activity],
                "contact_ids": [a.contact_id for a in activity],
                "counts": [a.count for a in activity],
                "message_ids": [a.message_id for a in activity],
                "ats": [a.at for a in activity],
                "windows": list(windows),
            },
        )

    async def touch_contacts(self, tenant_id: UUID, last: dict[UUID, datetime]) -> None:
        """The contacts' last message time (either way), as the contact list shows it."""
        await self.session.execute(
            text(
                """
                UPDATE contacts k
                SET last_message_at = GREATEST(k.last_message_at, v.at)
                FROM unnest(CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[])) AS v(id, at)
                WHERE k.tenant_id = :tenant_id AND k.id = v.id
                """
            ),
            {"tenant_id": tenant_id, "ids": list(last), "ats": list(last.values())},
        )

    async def last_campaigns(
        self, tenant_id: UUID, contact_ids: Sequence[UUID]
    ) -> dict[UUID, UUID]:
        """Each contact's most recent campaign (of its outbound messages), where there is one."""
        rows = await self.session.execute(
            _LAST_CAMPAIGNS, {"tenant_id": tenant_id, "contact_ids": list(contact_ids)}
        )
        return {contact_id: campaign_id for contact_id, campaign_id in rows}

    async def add_compliance_reply(
        self, tenant_id: UUID, message_id: UUID, inbound_id: UUID, keyword: KeywordKind
    ) -> None:
        self.session.add(
            ComplianceReply(
                tenant_id=tenant_id,
                message_id=message_id,
                inbound_message_id=inbound_id,
                keyword=keyword,
            )
        )
        await self.session.flush()

    # --- keyword settings ---------------------------------------------------------------------

    async def keyword_config(self, tenant_id: UUID) -> dict[str, Any] | None:
        return await self.session.scalar(
            select(KeywordSettings.config).where(KeywordSettings.tenant_id == tenant_id)
        )

    async def save_keyword_config(self, tenant_id: UUID, config: dict[str, Any]) -> None:
        stmt = insert(KeywordSettings).values(tenant_id=tenant_id, config=config)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id"],
                set_={"config": stmt.excluded.config, "updated_at": func.now()},
            )
        )

    # --- conversations ------------------------------------------------------------------------

    async def conversation(
        self, tenant_id: UUID, conversation_id: UUID, *, for_update: bool = False
    ) -> Conversation | None:
        stmt = select(Conversation).where(
            Conversation.tenant_id == tenant_id, Conversation.id == conversation_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def conversations(
        self, tenant_id: UUID, filters: ConversationFilters, params: PageParams, now: datetime
    ) -> Slice[Conversation]:
        """Newest activity first, from the conversations table and its indexes alone."""
        C = Conversation
        stmt: Select[Any] = select(C).where(C.tenant_id == tenant_id)
        if filters.status is not None:
            stmt = stmt.where(_status_is(filters.status, now))
        if filters.assigned_to is not None:
            stmt = stmt.where(C.assigned_to == filters.assigned_to)
        if filters.unassigned:
            stmt = stmt.where(C.assigned_to.is_(None))
        if filters.unread is not None:
            stmt = stmt.where(C.unread_count > 0 if filters.unread else C.unread_count == 0)
        if filters.channel_id is not None:
            stmt = stmt.where(C.channel_id == filters.channel_id)
        if filters.tag is not None:
            stmt = stmt.where(C.tags.contains([filters.tag]))
        return await self.page(stmt, params, C.last_message_at, C.id, descending=True)

    async def thread(self, conversation: Conversation, params: PageParams) -> Slice[Message]:
        """The messages between the contact and the channel, newest first."""
        stmt: Select[Any] = select(Message).where(
            Message.tenant_id == conversation.tenant_id,
            Message.contact_id == conversation.contact_id,
            Message.channel_id == conversation.channel_id,
        )
        return await self.page(stmt, params, Message.created_at, Message.id, descending=True)

    async def message_of(self, conversation: Conversation, message_id: UUID) -> Message | None:
        return await self.session.scalar(
            select(Message).where(
                Message.tenant_id == conversation.tenant_id,
                Message.id == message_id,
                Message.contact_id == conversation.contact_id,
                Message.channel_id == conversation.channel_id,
            )
        )

    async def previews(self, tenant_id: UUID, message_ids: Sequence[UUID]) -> dict[UUID, str]:
        """What the list shows of each last message: one query for a page of conversations."""
        rows = await self.session.execute(
            select(Message.id, Message.body, Message.template, InboundContent.media)
            .outerjoin(InboundContent, InboundContent.message_id == Message.id)
            .where(Message.tenant_id == tenant_id, Message.id.in_(message_ids))
        )
        found = {row[0]: preview_of(row[1], row[2], row[3]) for row in rows}
        return {key: value for key, value in found.items() if value is not None}

    async def contents(
        self, tenant_id: UUID, message_ids: Sequence[UUID]
    ) -> dict[UUID, InboundContent]:
        found = await self.session.scalars(
            select(InboundContent).where(
                InboundContent.tenant_id == tenant_id, InboundContent.message_id.in_(message_ids)
            )
        )
        return {content.message_id: content for content in found}

    async def record_outbound(self, conversation: Conversation, message: Message) -> None:
        """An agent answered: the reply is the conversation's last message, all is read."""
        await self.session.execute(
            update(Conversation)
            .where(
                Conversation.tenant_id == conversation.tenant_id, Conversation.id == conversation.id
            )
            .values(
                last_message_id=message.id,
                last_message_at=message.created_at,
                last_direction=Direction.outbound.value,
                unread_count=0,
                updated_at=func.now(),
            )
        )

    async def member_role(self, tenant_id: UUID, user_id: UUID) -> Role | None:
        """The user's role in the tenant; ``None`` when not a member."""
        return await self.session.scalar(
            select(Membership.role).where(
                Membership.tenant_id == tenant_id, Membership.user_id == user_id
            )
        )

    async def forget_contact(self, tenant_id: UUID, contact_id: UUID) -> None:
        """Delete what the inbox holds of a person beyond their messages: media and locations
        they sent, and the team's notes on their conversations."""
        mine = select(Message.id).where(
            Message.tenant_id == tenant_id, Message.contact_id == contact_id
        )
        await self.session.execute(
            delete(InboundContent).where(
                InboundContent.tenant_id == tenant_id, InboundContent.message_id.in_(mine)
            )
        )
        theirs = select(Conversation.id).where(
            Conversation.tenant_id == tenant_id, Conversation.contact_id == contact_id
        )
        await self.session.execute(
            delete(ConversationNote).where(
                ConversationNote.tenant_id == tenant_id,
                ConversationNote.conversation_id.in_(theirs),
            )
        )
        await self.session.execute(
            update(Conversation)
            .where(Conversation.tenant_id == tenant_id, Conversation.contact_id == contact_id)
            .values(tags=[], updated_at=func.now())
        )

    # --- notes and canned replies -------------------------------------------------------------

    def add(self, row: ConversationNote | CannedReply) -> None:
        self.session.add(row)

    async def notes(
        self, conversation: Conversation, params: PageParams
    ) -> Slice[ConversationNote]:
        """Oldest first, as a thread reads."""
        N = ConversationNote
        stmt: Select[Any] = select(N).where(
            N.tenant_id == conversation.tenant_id, N.conversation_id == conversation.id
        )
        return await self.page(stmt, params, N.created_at, N.id)

    async def canned_reply(self, tenant_id: UUID, reply_id: UUID) -> CannedReply | None:
        return await self.session.scalar(
            select(CannedReply).where(
                CannedReply.tenant_id == tenant_id, CannedReply.id == reply_id
            )
        )

    async def canned_replies(self, tenant_id: UUID, params: PageParams) -> Slice[CannedReply]:
        """By name."""
        stmt: Select[Any] = select(CannedReply).where(CannedReply.tenant_id == tenant_id)
        return await self.page(stmt, params, CannedReply.name, CannedReply.id)

    async def canned_name_taken(self, tenant_id: UUID, name: str, but: UUID | None) -> bool:
        stmt = select(CannedReply.id).where(
            CannedReply.tenant_id == tenant_id, CannedReply.name == name
        )
        if but is not None:
            stmt = stmt.where(CannedReply.id != but)
        return await self.session.scalar(stmt) is not None

    async def delete(self, row: CannedReply) -> None:
        await self.session.delete(row)


def _status_is(status: ConversationStatus, now: datetime) -> Any:
    """A snoozed conversation whose time has come reads as open."""
    C = Conversation
    woke = and_(C.status == ConversationStatus.snoozed, C.snoozed_until <= now)
    if status is ConversationStatus.open:
        return or_(C.status == ConversationStatus.open, woke)
    if status is ConversationStatus.snoozed:
        return and_(C.status == ConversationStatus.snoozed, C.snoozed_until > now)
    return C.status == status


PREVIEW_LENGTH = 160


def preview_of(
    body: str | None, template: dict[str, Any] | None, media: list[dict[str, Any]] | None
) -> str | None:
    """What the inbox list shows of a message."""
    if body:
        return body[:PREVIEW_LENGTH]
    if template:
        return f"[template {template.get('name')}]"[:PREVIEW_LENGTH]
    if media:
        first = media[0]
        return (first.get("caption") or f"[{first.get('content_type') or 'media'}]")[
            :PREVIEW_LENGTH
        ]
    return None
