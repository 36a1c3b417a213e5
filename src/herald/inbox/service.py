"""The inbox's rules: inbound messages (stored once, their contact found or created, the
conversation and the WhatsApp 24-hour window moved on), keywords (STOP, START, HELP and the
tenant's own words), and what agents do with conversations.

``receive_inbound`` is what the webhook processing calls for ``Inbound`` events, in a session
scoped to the channel's tenant. Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import aiohttp
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.audit import service as audit
from herald.channel.models import Channel
from herald.channel.service import provider_config
from herald.contact.dnc_hash import phone_hash
from herald.contact.eligibility import Purpose
from herald.contact.models import ChannelKind, ConsentMethod, ConsentStatus, DncReason
from herald.contact.repository import DncRepository
from herald.contact.schemas import ConsentChange
from herald.contact.service import apply_consent, locked_contact
from herald.inbox.keywords import BUILT_IN, DEFAULT_REPLIES, KeywordMatch, match, render_reply
from herald.inbox.models import (
    CannedReply,
    Conversation,
    ConversationNote,
    ConversationStatus,
    KeywordKind,
)
from herald.inbox.repository import Activity, InboundRow, InboxRepository, Sender
from herald.inbox.schemas import (
    CannedReplyCreate,
    CannedReplyUpdate,
    ConversationFilters,
    ConversationRead,
    ConversationUpdate,
    KeywordConfig,
    KeywordSettingsRead,
    NoteCreate,
    ReplyCreate,
    ThreadMessage,
)
from herald.kit.context import SYSTEM, Actor, Role
from herald.kit.errors import Conflict, HeraldError, NotFound, Unprocessable
from herald.kit.ids import new_id
from herald.kit.models import utcnow
from herald.kit.pagination import Page, PageParams, Slice
from herald.kit.phone import PhoneError, parse_phone
from herald.message.models import EventType, Message
from herald.message.repository import MessageRepository, NewEvent, record_events
from herald.message.schemas import MessageCreate
from herald.message.service import create_message
from herald.providers.base import Inbound, Location, Media
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig
from herald.providers.whatsapp_cloud.media import MediaFile, MediaUnavailable
from herald.providers.whatsapp_cloud.media import download_media as fetch_media
from herald.sms.encoding import inspect
from herald.tenant.models import Tenant
from herald.tenant.service import get_tenant, settings_of

log = structlog.get_logger(__name__)

WINDOW = timedelta(hours=24)
"""WhatsApp's customer-service window: free text may answer for 24 hours after the contact's
last message."""
MAX_INBOUND_BODY = 4096
WHATSAPP_CLOUD = "whatsapp_cloud"


# --- inbound --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arrival:
    """A new inbound message with its sender, as stored."""

    event: Inbound
    phone: str
    sender: Sender
    message_id: UUID
    received_at: datetime


async def receive_inbound(
    session: AsyncSession, channel: Channel, events: Sequence[Inbound]
) -> None:
    """Store inbound messages of ``channel`` and act on them: contacts found or created,
    conversations upserted, the 24-hour window opened (WhatsApp), keywords applied, a
    ``replied`` or ``opt_out`` event each. A provider's replay of a message already stored is
    skipped, whole. Each step is one statement for the batch, except the keywords' consent
    changes (rare, one contact at a time). The channel is held until the transaction ends, as
    for any message written (``messages`` has no foreign keys); a channel deleted since the
    callback was stored takes its callbacks with it, so there is nothing to store."""
    if not events:
        return
    held = await MessageRepository(session).channel(channel.tenant_id, channel.id, hold=True)
    if held is None:
        log.warning("inbox.channel_deleted", channel_id=str(channel.id), dropped=len(events))
        return
    tenant = await get_tenant(session, channel.tenant_id)
    now = utcnow()
    arrivals = await _store(session, tenant, channel, events, now)
    if not arrivals:
        return
    repo = InboxRepository(session)
    await _record_contents(repo, tenant.id, arrivals)
    if channel.kind is ChannelKind.whatsapp:
        names = {a.sender.contact_id: a.event.profile_name for a in arrivals}
        await repo.keep_profile_names(
            tenant.id, {contact: name[:200] for contact, name in names.items() if name}
        )
    await _move_conversations(repo, channel, arrivals, now)
    campaigns = await repo.last_campaigns(tenant.id, [a.sender.contact_id for a in arrivals])
    config = await keyword_config(session, tenant.id)
    events_out: list[NewEvent] = []
    for arrival in arrivals:
        found = match(arrival.event.body, config.words())
        if found is not None:
            found = await _apply_keyword(session, tenant, channel, config, arrival, found)
        campaign_id = campaigns.get(arrival.sender.contact_id)
        events_out.extend(_events(tenant.id, arrival, found, campaign_id))
    await record_events(session, events_out)


def _phone(address: str, region: str) -> str | None:
    try:
        return parse_phone(address, region)
    except PhoneError:
        return None


async def _store(
    session: AsyncSession,
    tenant: Tenant,
    channel: Channel,
    events: Sequence[Inbound],
    now: datetime,
) -> list[Arrival]:
    """The events not stored before, stored; senders that are not phone numbers (a short
    code's system message, say) are logged and left out: there is no one to answer."""
    unique: dict[str, tuple[Inbound, str]] = {}
    for event in events:
        phone = _phone(event.sender, tenant.country)
        if phone is None or not event.provider_message_id:
            log.warning("inbox.inbound_skipped", channel_id=str(channel.id), sender=event.sender)
            continue
        unique.setdefault(event.provider_message_id, (event, phone))
    if not unique:
        return []
    repo = InboxRepository(session)
    senders = await repo.senders(
        tenant.id, sorted({phone for _, phone in unique.values()}), channel.kind.value
    )
    rows = [
        InboundRow(
            id=new_id(),
            contact_id=senders[phone].contact_id,
            provider_message_id=event.provider_message_id[:100],
            sender=phone,
            to=(event.to or channel.sender)[:32],
            body=event.body[:MAX_INBOUND_BODY] if event.body else None,
            received_at=event.received_at or now,
        )
        for event, phone in unique.values()
    ]
    stored = await repo.insert_inbound(tenant.id, channel.id, rows, now)
    by_provider_id = {row.provider_message_id: row for row in rows}
    return [
        Arrival(event, phone, senders[phone], row.id, row.received_at)
        for event, phone in unique.values()
        if (row := by_provider_id[event.provider_message_id[:100]]).id in stored
    ]


def _media_of(media: Media) -> dict[str, Any]:
    return {
        "content_type": media.content_type,
        "provider_media_id": media.provider_media_id,
        "url": media.url,
        "caption": media.caption,
    }


def _location_of(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {
        "latitude": location.latitude,
        "longitude": location.longitude,
        "name": location.name,
        "address": location.address,
    }


async def _record_contents(repo: InboxRepository, tenant_id: UUID, arrivals: list[Arrival]) -> None:
    contents = [
        (a.message_id, [_media_of(m) for m in a.event.media], _location_of(a.event.location))
        for a in arrivals
        if a.event.media or a.event.location
    ]
    await repo.insert_contents(tenant_id, contents)


async def _move_conversations(
    repo: InboxRepository, channel: Channel, arrivals: list[Arrival], now: datetime
) -> None:
    """One conversation row per contact of the batch: its newest message, the unread count
    it adds, and (WhatsApp) the window 24 hours from the newest message."""
    newest: dict[UUID, Arrival] = {}
    counts: dict[UUID, int] = {}
    for arrival in arrivals:
        contact = arrival.sender.contact_id
        counts[contact] = counts.get(contact, 0) + 1
        if contact not in newest or arrival.received_at >= newest[contact].received_at:
            newest[contact] = arrival
    activity = [
        Activity(contact, a.message_id, a.received_at, counts[contact])
        for contact, a in newest.items()
    ]
    windows = [a.at + WINDOW if channel.kind is ChannelKind.whatsapp else None for a in activity]
    await repo.upsert_conversations(channel.tenant_id, channel.id, activity, windows, now)
    await repo.touch_contacts(channel.tenant_id, {a.contact_id: a.at for a in activity})


def _events(
    tenant_id: UUID, arrival: Arrival, found: KeywordMatch | None, campaign_id: UUID | None
) -> list[NewEvent]:
    """``opt_out`` for a stop word, else ``replied`` (and ``resubscribe`` for a start word),
    each with the contact's latest campaign so campaign reports can count them."""
    kinds = [EventType.opt_out] if found and found.kind is KeywordKind.stop else [EventType.replied]
    if found and found.kind is KeywordKind.start:
        kinds.append(EventType.resubscribe)
    data: dict[str, Any] = {"keyword": found.keyword} if found else {}
    return [
        NewEvent(
            tenant_id=tenant_id,
            type=kind,
            message_id=arrival.message_id,
            contact_id=arrival.sender.contact_id,
            campaign_id=campaign_id,
            data=data,
            occurred_at=arrival.received_at,
        )
        for kind in kinds
    ]


# --- keywords -------------------------------------------------------------------------------


async def _apply_keyword(
    session: AsyncSession,
    tenant: Tenant,
    channel: Channel,
    config: KeywordConfig,
    arrival: Arrival,
    found: KeywordMatch,
) -> KeywordMatch | None:
    """Change the contact's consent on the channel's medium with the message as proof, then
    answer once. Returns ``found``, or ``None`` when the text is an ordinary reply after all:
    a bare "yes" resubscribes only a contact who opted out (otherwise it answers a question).
    When the provider already handled the keyword itself (Twilio's Advanced Opt-Out sets
    ``OptOutType``), its confirmation went out: Herald records the consent and stays quiet."""
    contact = await locked_contact(session, tenant.id, arrival.sender.contact_id)
    kind = channel.kind
    current = contact.sms_status if kind is ChannelKind.sms else contact.whatsapp_status
    opted_out = current is ConsentStatus.opted_out
    if found.kind is KeywordKind.start and found.keyword == "yes" and not opted_out:
        return None
    proof = {"message_id": str(arrival.message_id), "keyword": found.keyword}
    if found.kind is KeywordKind.stop:
        change = _keyword_change(kind, ConsentStatus.opted_out, arrival, resubscribe=False)
        apply_consent(session, contact, change, SYSTEM, proof)
        if config.add_to_do_not_contact:
            await DncRepository(session).add_many(
                tenant.id,
                {phone_hash(tenant.id, arrival.phone): arrival.phone},
                DncReason.stop,
                f"replied {found.keyword.upper()}",
                f"keyword:{kind.value}",
            )
    elif found.kind is KeywordKind.start:
        change = _keyword_change(kind, ConsentStatus.opted_in, arrival, resubscribe=opted_out)
        apply_consent(session, contact, change, SYSTEM, {**proof, "resubscribe": opted_out})
        await _lift_stop_dnc(session, tenant.id, arrival.phone)
    contact.updated_at = utcnow()
    await session.flush()
    if arrival.event.opt_out_type is None:
        await _answer(session, tenant, channel, config, arrival, found)
    return found


def _keyword_change(
    kind: ChannelKind, status: ConsentStatus, arrival: Arrival, *, resubscribe: bool
) -> ConsentChange:
    return ConsentChange(
        channel=kind,
        status=status,
        method=ConsentMethod.keyword,
        source=kind.value,
        wording=(arrival.event.body or "")[:5000] or None,
        resubscribe=resubscribe,
    )


async def _lift_stop_dnc(session: AsyncSession, tenant_id: UUID, phone: str) -> None:
    """A number listed because it texted STOP comes off the list when it texts START; an entry
    made for any other reason (a complaint, by hand, an erasure) stays."""
    repo = DncRepository(session)
    hashed = phone_hash(tenant_id, phone)
    entry = await repo.get(tenant_id, hashed)
    if entry is not None and entry.reason is DncReason.stop:
        await repo.remove_many(tenant_id, [hashed])


async def _answer(
    session: AsyncSession,
    tenant: Tenant,
    channel: Channel,
    config: KeywordConfig,
    arrival: Arrival,
    found: KeywordMatch,
) -> None:
    """Queue the keyword's one reply: transactional, no footer, no link, and listed as a
    compliance reply so dispatch sends it even though the contact just opted out. Keyed by the
    inbound message, so it is queued once however often the event is applied."""
    settings = settings_of(tenant)
    language = found.language or _reply_language(
        arrival.sender.language, config, settings.default_language
    )
    chosen = config.languages.get(language)
    text = (chosen.reply(found.kind) if chosen else None) or DEFAULT_REPLIES[found.kind]
    body = render_reply(text, settings.business_name or tenant.name)
    values: dict[str, Any] = {
        "tenant_id": tenant.id,
        "channel_id": channel.id,
        "contact_id": arrival.sender.contact_id,
        "purpose": Purpose.transactional,
        "to_address": arrival.phone,
        "from_address": channel.sender,
        "body": body,
        "idempotency_key": f"keyword-reply:{arrival.message_id}",
    }
    if channel.kind is ChannelKind.sms:
        sms = inspect(body, smart=settings.smart_encoding)
        values.update(body=sms.text, encoding=sms.encoding, segments=sms.segments)
    message = await MessageRepository(session).insert_once(values)
    if message is None:
        return
    await InboxRepository(session).add_compliance_reply(
        tenant.id, message.id, arrival.message_id, found.kind
    )
    queued = NewEvent(
        tenant_id=tenant.id,
        type=EventType.queued,
        message_id=message.id,
        contact_id=arrival.sender.contact_id,
        data={"keyword_reply": found.kind.value},
    )
    await record_events(session, [queued])


def _reply_language(contact_language: str | None, config: KeywordConfig, default: str) -> str:
    """The contact's language if the tenant wrote replies in it, else the tenant's default."""
    for candidate in (contact_language, (contact_language or "")[:2], default):
        if candidate and candidate in config.languages:
            return candidate
    return default


async def keyword_config(session: AsyncSession, tenant_id: UUID) -> KeywordConfig:
    stored = await InboxRepository(session).keyword_config(tenant_id)
    return KeywordConfig.model_validate(stored or {})


async def keyword_settings(session: AsyncSession, tenant_id: UUID) -> KeywordSettingsRead:
    config = await keyword_config(session, tenant_id)
    built_in = {kind: list(words) for kind, words in BUILT_IN.items()}
    return KeywordSettingsRead(**config.model_dump(), built_in=built_in)


async def save_keyword_settings(
    session: AsyncSession, tenant_id: UUID, config: KeywordConfig
) -> KeywordSettingsRead:
    saved = config.model_dump(mode="json")
    await InboxRepository(session).save_keyword_config(tenant_id, saved)
    await audit.record(
        session,
        "keyword_settings.updated",
        "keyword_settings",
        tenant_id,
        changes={"config": {"new": saved}},
        tenant_id=tenant_id,
    )
    return await keyword_settings(session, tenant_id)


# --- conversations --------------------------------------------------------------------------


async def get_conversation(
    session: AsyncSession, tenant_id: UUID, conversation_id: UUID, *, for_update: bool = False
) -> Conversation:
    found = await InboxRepository(session).conversation(
        tenant_id, conversation_id, for_update=for_update
    )
    if found is None:
        raise NotFound(f"No conversation {conversation_id}; list them with GET /v1/conversations.")
    return found


def effective_status(conversation: Conversation, now: datetime) -> ConversationStatus:
    """A snooze that has run out reads as open (no job needs to wake it)."""
    if conversation.status is ConversationStatus.snoozed and (
        conversation.snoozed_until is None or conversation.snoozed_until <= now
    ):
        return ConversationStatus.open
    return conversation.status


async def list_conversations(
    session: AsyncSession, tenant_id: UUID, filters: ConversationFilters, params: PageParams
) -> Page[ConversationRead]:
    if filters.assigned_to is not None and filters.unassigned:
        raise Unprocessable(
            "Filter by 'assigned_to' or 'unassigned', not both: no conversation is assigned "
            "to someone and to no one."
        )
    found = await InboxRepository(session).conversations(tenant_id, filters, params, utcnow())
    return Page(items=await read_all(session, found.items), next_cursor=found.next_cursor)


async def read_all(
    session: AsyncSession, conversations: Sequence[Conversation]
) -> list[ConversationRead]:
    """The API's view: the effective status and the last message's preview (one query for
    all the previews)."""
    if not conversations:
        return []
    last = [c.last_message_id for c in conversations if c.last_message_id is not None]
    previews = await InboxRepository(session).previews(conversations[0].tenant_id, last)
    now = utcnow()
    return [
        ConversationRead.model_validate(c).model_copy(
            update={
                "status": effective_status(c, now),
                "last_preview": previews.get(c.last_message_id) if c.last_message_id else None,
            }
        )
        for c in conversations
    ]


async def read_one(session: AsyncSession, conversation: Conversation) -> ConversationRead:
    [read] = await read_all(session, [conversation])
    return read


async def thread(
    session: AsyncSession, tenant_id: UUID, conversation_id: UUID, params: PageParams
) -> Page[ThreadMessage]:
    """The thread, newest first, each inbound message with its media and location."""
    conversation = await get_conversation(session, tenant_id, conversation_id)
    repo = InboxRepository(session)
    found = await repo.thread(conversation, params)
    contents = await repo.contents(tenant_id, [m.id for m in found.items])
    items = []
    for message in found.items:
        item = ThreadMessage.model_validate(message)
        content = contents.get(message.id)
        if content is not None:
            item = item.model_copy(update={"media": content.media, "location": content.location})
        items.append(item)
    return Page(items=items, next_cursor=found.next_cursor)


async def mark_read(session: AsyncSession, tenant_id: UUID, conversation_id: UUID) -> Conversation:
    conversation = await get_conversation(session, tenant_id, conversation_id, for_update=True)
    conversation.unread_count = 0
    await session.flush()
    return conversation


async def update_conversation(
    session: AsyncSession, tenant_id: UUID, conversation_id: UUID, data: ConversationUpdate
) -> Conversation:
    """Assign (to a member of the account, or ``null``), change the status, set the tags."""
    conversation = await get_conversation(session, tenant_id, conversation_id, for_update=True)
    if data.snoozed_until is not None and data.snoozed_until <= utcnow():
        raise Unprocessable(
            f"'snoozed_until' ({data.snoozed_until.isoformat()}) has passed: a snooze ends in "
            "the future; to reopen the conversation now, set status 'open'."
        )
    sent = data.model_fields_set
    if "assigned_to" in sent:
        if data.assigned_to is not None:
            await _check_member(session, tenant_id, data.assigned_to)
        conversation.assigned_to = data.assigned_to
    if data.status is not None:
        conversation.status = data.status
        conversation.snoozed_until = data.snoozed_until
    if data.tags is not None:
        conversation.tags = list(dict.fromkeys(tag.strip() for tag in data.tags if tag.strip()))
    await session.flush()
    return conversation


async def _check_member(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> None:
    """Only someone who may answer (an agent or above) can be given a conversation."""
    role = await InboxRepository(session).member_role(tenant_id, user_id)
    if role is None:
        raise Unprocessable(
            f"User {user_id} is not a member of this account; assign the conversation to a "
            "member (GET /v1/members)."
        )
    if not role.at_least(Role.agent):
        raise Unprocessable(
            f"User {user_id} is a {role.value} and cannot answer conversations; assign it to an "
            "agent or above, or change their role first."
        )


async def reply(
    session: AsyncSession,
    tenant_id: UUID,
    conversation_id: UUID,
    data: ReplyCreate,
    idempotency_key: str | None = None,
) -> Message:
    """An agent's answer, queued as an ordinary transactional message (dispatch sends it).
    WhatsApp takes free text only inside the 24-hour window; outside it, an approved
    template. With an ``idempotency_key``, a retried request answers the message the first
    one queued instead of sending the contact a second copy."""
    conversation = await get_conversation(session, tenant_id, conversation_id, for_update=True)
    channel = await MessageRepository(session).channel(tenant_id, conversation.channel_id)
    if channel is None:  # pragma: no cover - the foreign key cascades
        raise NotFound(f"The channel of conversation {conversation_id} is gone.")
    body = data.body
    if data.canned_reply_id is not None:
        body = (await get_canned_reply(session, tenant_id, data.canned_reply_id)).body
    _check_reply_shape(channel, conversation, body is not None, utcnow())
    replayed = idempotency_key is not None and (
        await MessageRepository(session).by_key(tenant_id, idempotency_key) is not None
    )
    message = await create_message(
        session,
        tenant_id,
        MessageCreate(
            channel_id=channel.id,
            contact_id=conversation.contact_id,
            body=body,
            template=data.template,
            purpose=Purpose.transactional,
        ),
        idempotency_key=idempotency_key,
    )
    if not replayed:  # a retry must not make its old reply the last message again
        await InboxRepository(session).record_outbound(conversation, message)
    return message


def _check_reply_shape(
    channel: Channel, conversation: Conversation, free_text: bool, now: datetime
) -> None:
    if channel.kind is ChannelKind.sms and not free_text:
        raise Unprocessable(
            "This conversation is on an SMS channel: answer with a 'body'; templates are "
            "WhatsApp's.",
            rule="sms_free_text",
        )
    window = conversation.window_expires_at
    if channel.kind is ChannelKind.whatsapp and free_text and (window is None or window <= now):
        since = f"closed at {window.isoformat()}" if window else "has not opened"
        raise Unprocessable(
            f"WhatsApp's 24-hour customer-service window for this conversation {since}: free "
            "text is only allowed within 24 hours of the contact's last message. Send an "
            "approved 'template' instead (GET /v1/whatsapp/templates).",
            rule="whatsapp_window",
            window_expires_at=window.isoformat() if window else None,
        )


async def add_note(
    session: AsyncSession, tenant_id: UUID, conversation_id: UUID, data: NoteCreate, actor: Actor
) -> ConversationNote:
    conversation = await get_conversation(session, tenant_id, conversation_id)
    note = ConversationNote(
        tenant_id=tenant_id, conversation_id=conversation.id, author=actor.label, body=data.body
    )
    InboxRepository(session).add(note)
    await session.flush()
    return note


async def list_notes(
    session: AsyncSession, tenant_id: UUID, conversation_id: UUID, params: PageParams
) -> Slice[ConversationNote]:
    conversation = await get_conversation(session, tenant_id, conversation_id)
    return await InboxRepository(session).notes(conversation, params)


# --- canned replies -------------------------------------------------------------------------


async def get_canned_reply(session: AsyncSession, tenant_id: UUID, reply_id: UUID) -> CannedReply:
    found = await InboxRepository(session).canned_reply(tenant_id, reply_id)
    if found is None:
        raise NotFound(f"No canned reply {reply_id}; list them with GET /v1/inbox/canned-replies.")
    return found


async def _check_name(
    repo: InboxRepository, tenant_id: UUID, name: str, but: UUID | None = None
) -> None:
    if await repo.canned_name_taken(tenant_id, name, but):
        raise Conflict(f"A canned reply is already named {name!r}; choose another name.")


async def create_canned_reply(
    session: AsyncSession, tenant_id: UUID, data: CannedReplyCreate
) -> CannedReply:
    repo = InboxRepository(session)
    await _check_name(repo, tenant_id, data.name)
    reply_row = CannedReply(tenant_id=tenant_id, **data.model_dump())
    repo.add(reply_row)
    await session.flush()
    return reply_row


async def update_canned_reply(
    session: AsyncSession, tenant_id: UUID, reply_id: UUID, data: CannedReplyUpdate
) -> CannedReply:
    repo = InboxRepository(session)
    found = await get_canned_reply(session, tenant_id, reply_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        await _check_name(repo, tenant_id, changes["name"], but=reply_id)
    for field, value in changes.items():
        if value is not None or field == "language":
            setattr(found, field, value)
    await session.flush()
    return found


async def delete_canned_reply(session: AsyncSession, tenant_id: UUID, reply_id: UUID) -> None:
    found = await get_canned_reply(session, tenant_id, reply_id)
    await InboxRepository(session).delete(found)


async def list_canned_replies(
    session: AsyncSession, tenant_id: UUID, params: PageParams
) -> Slice[CannedReply]:
    return await InboxRepository(session).canned_replies(tenant_id, params)


# --- erasure ------------------------------------------------------------------------------


async def erase_contact_inbox(session: AsyncSession, tenant_id: UUID, contact_id: UUID) -> None:
    """Forget a person in the inbox when they are erased: the media and locations they sent
    and the notes on their conversations (their messages are blanked by the messages
    domain). For the contact's erasure to call in its transaction."""
    await InboxRepository(session).forget_contact(tenant_id, contact_id)


# --- media ----------------------------------------------------------------------------------


class MediaNotHandedOver(HeraldError):
    """The provider would not give the file (expired, refused, unreachable): its answer, not
    the caller's request, is at fault."""

    status, title = 502, "Bad gateway"


async def download_media(
    session: AsyncSession, tenant_id: UUID, conversation_id: UUID, message_id: UUID, index: int
) -> MediaFile:
    """The ``index``-th media of an inbound message of the conversation, fetched through its
    channel now (nothing is stored: the provider keeps the file)."""
    conversation = await get_conversation(session, tenant_id, conversation_id)
    repo = InboxRepository(session)
    message = await repo.message_of(conversation, message_id)
    if message is None:
        raise NotFound(f"Conversation {conversation_id} has no message {message_id}.")
    content = (await repo.contents(tenant_id, [message_id])).get(message_id)
    media = content.media if content is not None else []
    if index >= len(media):
        raise NotFound(f"Message {message_id} has {len(media)} media; there is no number {index}.")
    channel = await MessageRepository(session).channel(tenant_id, conversation.channel_id)
    media_id = media[index].get("provider_media_id")
    if channel is None or channel.provider != WHATSAPP_CLOUD or not media_id:
        raise Unprocessable(
            "Only media received on a WhatsApp Cloud API channel can be downloaded through "
            "Herald; other providers send a link (see the message's media 'url')."
        )
    config = provider_config(channel)
    assert isinstance(config, WhatsAppCloudConfig)
    async with aiohttp.ClientSession() as http:
        result = await fetch_media(http, config, str(media_id))
    if isinstance(result, MediaUnavailable):
        raise MediaNotHandedOver(
            f"The channel's provider did not hand over the media ({result.code}: "
            f"{result.reason}); it may have expired (Meta keeps media for 30 days)."
        )
    return result
