"""Messages: accept one message to send (idempotent, eligible, priced), read messages and
their events, and forget a person's messages when they are erased.

Accepting a message stores it ``queued`` and due now; the dispatch workers poll for due
messages and send them, so nothing is deferred here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.audit.service import record
from herald.channel.models import Channel
from herald.contact.eligibility import Purpose
from herald.contact.models import ChannelKind, ConsentStatus
from herald.contact.service import parse_or_422
from herald.cost.pricing import Category
from herald.cost.service import country_of_phone, price_message
from herald.kit.errors import Conflict, NotFound, Unprocessable
from herald.kit.pagination import PageParams, Slice
from herald.message.models import EventType, Message, MessageEvent
from herald.message.repository import MessageRepository, NewEvent, Standing, record_events
from herald.message.schemas import EventFilters, MessageCreate, MessageFilters, TemplateRef
from herald.sms.encoding import inspect
from herald.tenant.models import Tenant
from herald.tenant.service import get_tenant, settings_of
from herald.whatsapp.models import TemplateCategory, TemplateStatus
from herald.whatsapp.repository import TemplateRepository
from herald.whatsapp.templates import TemplateValues, render_components

CONSENTED = frozenset({ConsentStatus.opted_in, ConsentStatus.implied})
"""Marketing needs consent: express, or implied (an existing customer, the UK soft opt-in)."""
CATEGORY_OF = {
    TemplateCategory.MARKETING: Category.marketing,
    TemplateCategory.UTILITY: Category.utility,
    TemplateCategory.AUTHENTICATION: Category.authentication,
}


@dataclass(frozen=True)
class Content:
    """What a message carries and how it is counted and priced."""

    body: str | None = None
    template: dict[str, Any] | None = None
    encoding: str | None = None
    segments: int | None = None
    category: Category | None = None


class Refused(Unprocessable):
    """A message the eligibility rules refuse; ``rule`` names which one."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail, rule=rule)


# --- accepting a message --------------------------------------------------------------------


async def create_message(
    session: AsyncSession, tenant_id: UUID, data: MessageCreate, idempotency_key: str | None
) -> Message:
    """Queue one message and its ``queued`` event. With an ``idempotency_key`` the first
    request wins: later ones with the same key (even concurrent ones) get its message back."""
    repo = MessageRepository(session)
    tenant = await get_tenant(session, tenant_id)
    if idempotency_key is not None:
        earlier = await repo.by_key(tenant_id, idempotency_key)
        if earlier is not None:
            return _same_request(tenant, earlier, data)
    channel = await repo.channel(tenant_id, data.channel_id, hold=True)
    if channel is None:
        raise NotFound(f"No channel {data.channel_id}; list yours with GET /v1/channels.")
    _check_medium(channel, data)
    standing = await _recipient(session, tenant, channel.kind, data)
    refuse_ineligible(standing, channel.kind, data.purpose)
    content = await _content(session, tenant, channel, data.body, data.template)
    row = await _priced_row(session, channel, standing, content, data.purpose)
    message = await repo.insert_once({**row, "idempotency_key": idempotency_key})
    if message is None:  # a concurrent request with the same key won the race
        assert idempotency_key is not None
        winner = await repo.by_key(tenant_id, idempotency_key)
        assert winner is not None
        return _same_request(tenant, winner, data)
    queued: NewEvent = {
        "tenant_id": tenant_id,
        "type": EventType.queued,
        "message_id": message.id,
        "contact_id": standing.contact_id,
    }
    await record_events(session, [queued])
    return message


async def _priced_row(
    session: AsyncSession, channel: Channel, standing: Standing, content: Content, purpose: Purpose
) -> dict[str, Any]:
    """The message's columns, priced for the channel's provider and the number's country
    (422 when no price applies: a message that cannot be billed is not accepted)."""
    phone = standing.phone or ""
    price = await price_message(
        session,
        channel.tenant_id,
        provider=channel.provider,
        kind=channel.kind,
        country=country_of_phone(phone),
        segments=content.segments or 1,
        category=content.category,
    )
    return {
        "tenant_id": channel.tenant_id,
        "channel_id": channel.id,
        "contact_id": standing.contact_id,
        "purpose": purpose,
        "to_address": phone,
        "from_address": channel.sender,
        "body": content.body,
        "template": content.template,
        "encoding": content.encoding,
        "segments": content.segments,
        "cost_micros": price.total_micros,
        "currency": price.currency,
    }


def _check_medium(channel: Channel, data: MessageCreate) -> None:
    if data.template is not None and channel.kind is not ChannelKind.whatsapp:
        raise Unprocessable(
            f"Channel {channel.id} sends {channel.kind}; templates are WhatsApp's. Send a "
            "'body' instead, or use a WhatsApp channel."
        )
    text_on_whatsapp = channel.kind is ChannelKind.whatsapp and data.body is not None
    if text_on_whatsapp and data.purpose is not Purpose.transactional:
        raise Unprocessable(
            "WhatsApp free text may only answer a customer (transactional) inside the "
            "24-hour window; send marketing as an approved 'template'."
        )


async def _recipient(
    session: AsyncSession, tenant: Tenant, kind: ChannelKind, data: MessageCreate
) -> Standing:
    """The recipient's contact and standing; a new number becomes a contact (source api)."""
    repo = MessageRepository(session)
    if data.to is not None:
        phone = parse_or_422(data.to, tenant.country, "to")
        contact_id, created = await repo.contact_for_number(tenant.id, phone)
        if created:
            changes = {"source": {"old": None, "new": "api"}}
            await record(session, "contact.created", "contacts", contact_id, changes=changes)
    else:
        assert data.contact_id is not None
        contact_id = data.contact_id
    standing = await repo.standing(tenant.id, contact_id, kind, data.purpose)
    if standing is None:
        raise NotFound(f"No contact {contact_id}.")
    return standing


def refuse_ineligible(standing: Standing, kind: ChannelKind, purpose: Purpose) -> None:
    """422 naming the first rule that forbids messaging this contact for this purpose."""
    who = f"Contact {standing.contact_id}"
    if standing.erased:
        raise Refused("erased", f"{who} was erased at the person's request; it cannot be messaged.")
    if standing.blocked:
        raise Refused("blocked", f"{who} is blocked; unblock it before messaging it.")
    if standing.consent is ConsentStatus.opted_out:
        raise Refused(
            "opted_out",
            f"{who} opted out of {kind}; only the person can opt back in (a keyword or a form).",
        )
    if standing.do_not_contact:
        raise Refused("do_not_contact", f"{who}'s number is on the do-not-contact list.")
    if purpose is Purpose.marketing and standing.consent not in CONSENTED:
        raise Refused(
            "no_consent",
            f"{who} has not consented to {kind} marketing (status {standing.consent}); "
            "record its consent first, or send a transactional message.",
        )
    if standing.suppressed:
        raise Refused(
            "suppressed",
            f"{who} was messaged inside the window of an active suppression rule; try again "
            "later or change the rule (GET /v1/suppression-rules).",
        )
    if not standing.eligible:
        raise Refused("not_eligible", f"{who} cannot be messaged on {kind}.")


async def _content(
    session: AsyncSession,
    tenant: Tenant,
    channel: Channel,
    body: str | None,
    template: TemplateRef | None,
) -> Content:
    """What is sent and how it counts; with the tenant's smart encoding, the SMS body stored
    is the one with GSM look-alikes, the text the provider will get."""
    if template is not None:
        return await _template_content(session, tenant.id, channel, template)
    assert body is not None
    if channel.kind is ChannelKind.whatsapp:
        return Content(body=body, category=Category.service)
    sms = inspect(body, smart=settings_of(tenant).smart_encoding)
    return Content(body=sms.text, encoding=sms.encoding, segments=sms.segments)


async def _template_content(
    session: AsyncSession, tenant_id: UUID, channel: Channel, ref: TemplateRef
) -> Content:
    """The channel's synced copy of the template must be APPROVED by Meta."""
    found = await TemplateRepository(session).find(tenant_id, channel.id, ref.name, ref.language)
    if found is None:
        raise Unprocessable(
            f"Channel {channel.id} has no template {ref.name!r} in {ref.language}; sync its "
            f"templates (POST /v1/channels/{channel.id}/sync-templates) or submit it first."
        )
    if found.status is not TemplateStatus.APPROVED:
        raise Unprocessable(
            f"Template {ref.name!r} in {ref.language} is {found.status}, not APPROVED; it can be "
            "sent once Meta approves it (sync the channel's templates to refresh its status)."
        )
    components = render_components(found, TemplateValues(body=list(ref.parameters)))
    return Content(
        template={**ref.model_dump(), "components": components},
        category=CATEGORY_OF[found.category],
    )


def _same_request(tenant: Tenant, earlier: Message, data: MessageCreate) -> Message:
    """The message an idempotency key already named, if this request asks for the same."""
    if data.to is not None:
        phone = parse_or_422(data.to, tenant.country, "to")
        same_recipient = earlier.to_address == phone
    else:
        same_recipient = earlier.contact_id == data.contact_id
    same = (
        same_recipient
        and earlier.channel_id == data.channel_id
        and earlier.purpose == data.purpose
        and _same_body(earlier.body, data.body)
        and _same_template(earlier.template, data.template)
    )
    if not same:
        raise Conflict(
            f"Idempotency-Key was already used for message {earlier.id} with a different "
            "request; use a new key for a new message.",
            message_id=str(earlier.id),
        )
    return earlier


def _same_body(stored: str | None, asked: str | None) -> bool:
    """The stored SMS body may be the asked one with GSM look-alikes (smart encoding)."""
    if stored == asked:
        return True
    return stored is not None and asked is not None and stored == inspect(asked, smart=True).text


def _same_template(stored: dict[str, Any] | None, asked: TemplateRef | None) -> bool:
    if stored is None or asked is None:
        return stored is None and asked is None
    return all(stored.get(key) == value for key, value in asked.model_dump().items())


# --- reading --------------------------------------------------------------------------------


async def get_message(session: AsyncSession, tenant_id: UUID, message_id: UUID) -> Message:
    message = await MessageRepository(session).get(tenant_id, message_id)
    if message is None:
        raise NotFound(f"No message {message_id}.")
    return message


async def list_messages(
    session: AsyncSession, tenant_id: UUID, filters: MessageFilters, params: PageParams
) -> Slice[Message]:
    return await MessageRepository(session).list(tenant_id, filters, params)


async def list_events(
    session: AsyncSession, tenant_id: UUID, filters: EventFilters, params: PageParams
) -> Slice[MessageEvent]:
    return await MessageRepository(session).events(tenant_id, filters, params)


# --- erasure --------------------------------------------------------------------------------


async def erase_contact_messages(session: AsyncSession, tenant_id: UUID, contact_id: UUID) -> int:
    """Blank the bodies, numbers and template values of a contact's messages and the data of
    its events (called by the contact's erasure, in its transaction); returns the count."""
    return await MessageRepository(session).erase_contact(tenant_id, contact_id)
