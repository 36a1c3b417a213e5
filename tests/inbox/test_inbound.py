"""``receive_inbound``: inbound messages stored once, contacts, conversations, the WhatsApp
window, keywords (consent with proof, one confirmation, do-not-contact) and events."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError

from herald.contact.dnc_hash import phone_hash
from herald.contact.models import ConsentEvent, ConsentMethod, ConsentStatus, Contact, DoNotContact
from herald.inbox.models import (
    ComplianceReply,
    Conversation,
    ConversationNote,
    ConversationStatus,
    InboundContent,
)
from herald.inbox.service import erase_contact_inbox, receive_inbound
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.message.models import Direction, Message, MessageEvent, MessageStatus
from tests.conftest import TenantFixture
from tests.inbox.helpers import (
    contact_by_phone,
    messages_to,
    phone,
    put_keywords,
    receive,
    running_campaign,
    sms_channel,
    sms_inbound,
    text,
    twilio_inbound,
    whatsapp_channel,
    whatsapp_inbound,
)
from tests.sim.server import SimServer, sim, sim_server

__all__ = ["sim", "sim_server"]


async def conversation_of(db: Database, tenant_id: UUID, contact_id: UUID) -> Conversation:
    async with db.system_session() as session:
        found = await session.scalar(
            select(Conversation).where(
                Conversation.tenant_id == tenant_id, Conversation.contact_id == contact_id
            )
        )
    assert found is not None
    return found


async def events_of(db: Database, message_id: UUID) -> list[MessageEvent]:
    async with db.system_session() as session:
        found = await session.scalars(
            select(MessageEvent).where(MessageEvent.message_id == message_id)
        )
        return list(found)


async def consent_events(db: Database, contact_id: UUID) -> list[ConsentEvent]:
    async with db.system_session() as session:
        found = await session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.contact_id == contact_id)
            .order_by(ConsentEvent.occurred_at)
        )
        return list(found)


async def test_an_inbound_sms_makes_a_contact_a_message_and_a_conversation(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    await receive(db, channel, [sms_inbound(channel, sender, "Is my order ready?")])

    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.source == "sms"
    assert contact.sms_status is ConsentStatus.unknown
    assert contact.last_message_at is not None
    [message] = await messages_to(db, tenant.id, contact.id)
    assert message.direction is Direction.inbound
    assert message.status is MessageStatus.received
    assert message.received_at is not None
    assert (message.from_address, message.to_address) == (sender, channel.sender)
    assert message.body == "Is my order ready?"
    conversation = await conversation_of(db, tenant.id, contact.id)
    assert conversation.unread_count == 1
    assert conversation.last_message_id == message.id
    assert conversation.window_expires_at is None  # SMS has no service window
    [event] = await events_of(db, message.id)
    assert (event.type, event.campaign_id) == ("replied", None)


async def test_a_replayed_event_is_stored_once_and_counted_once(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    event = sms_inbound(channel, sender, "hello", message_id="SIM-replayed")
    await receive(db, channel, [event, event])
    await receive(db, channel, [event])

    contact = await contact_by_phone(db, tenant.id, sender)
    assert len(await messages_to(db, tenant.id, contact.id)) == 1
    assert (await conversation_of(db, tenant.id, contact.id)).unread_count == 1


async def test_an_inbound_batch_holds_its_channel_until_it_commits(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    others = await sms_channel(db, other_tenant.id, sim)

    async with db.tenant_session(tenant.id) as receiving:
        await receive_inbound(receiving, channel, [sms_inbound(channel, phone(), "hi")])
        with pytest.raises(DBAPIError, match="lock"):
            async with db.system_session() as deleting:
                await deleting.execute(sql_text("SET LOCAL lock_timeout = '200ms'"))
                await deleting.execute(
                    sql_text("DELETE FROM channels WHERE id = :id"), {"id": channel.id}
                )
        async with db.system_session() as deleting:  # another tenant's channel is not held
            await deleting.execute(
                sql_text("DELETE FROM channels WHERE id = :id"), {"id": others.id}
            )


async def test_inbound_for_a_channel_deleted_meanwhile_stores_nothing(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    async with db.system_session() as session:
        await session.execute(sql_text("DELETE FROM channels WHERE id = :id"), {"id": channel.id})

    await receive(db, channel, [sms_inbound(channel, sender, "anyone there?")])

    async with db.system_session() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Message).where(Message.channel_id == channel.id)
        )
        contacts = await session.scalar(
            select(func.count()).select_from(Contact).where(Contact.phone_e164 == sender)
        )
    assert (stored, contacts) == (0, 0)


async def test_a_batch_counts_per_contact_and_reopens_a_closed_conversation(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    first, second = phone(), phone()
    await receive(db, channel, [sms_inbound(channel, first, "one")])
    contact = await contact_by_phone(db, tenant.id, first)
    async with db.tenant_session(tenant.id) as session:
        found = await session.get(
            Conversation, (await conversation_of(db, tenant.id, contact.id)).id
        )
        assert found is not None
        found.status = ConversationStatus.closed
        found.unread_count = 0

    batch = [
        sms_inbound(channel, first, "two"),
        sms_inbound(channel, second, "hi"),
        sms_inbound(channel, first, "three"),
    ]
    await receive(db, channel, batch)

    conversation = await conversation_of(db, tenant.id, contact.id)
    assert conversation.status is ConversationStatus.open
    assert conversation.unread_count == 2
    other = await contact_by_phone(db, tenant.id, second)
    assert (await conversation_of(db, tenant.id, other.id)).unread_count == 1


async def test_whatsapp_opens_the_window_keeps_the_profile_name_and_the_media(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await whatsapp_channel(db, tenant.id, sim)
    sender = phone()
    image = {
        "id": f"wamid.{new_id().hex}",
        "type": "image",
        "image": {"caption": "the receipt", "mime_type": "image/jpeg", "sha256": "x", "id": "9001"},
    }
    place = {
        "id": f"wamid.{new_id().hex}",
        "type": "location",
        "location": {"latitude": 51.5, "longitude": -0.12, "name": "Shop"},
    }
    events = whatsapp_inbound(sender, [text("hi"), image, place], name="Ada L.")
    await receive(db, channel, events)

    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.source == "whatsapp"
    assert contact.custom_fields["whatsapp_profile_name"] == "Ada L."
    conversation = await conversation_of(db, tenant.id, contact.id)
    assert conversation.unread_count == 3
    [received] = {e.received_at for e in events}
    assert received is not None
    assert conversation.window_expires_at == received + timedelta(hours=24)
    async with db.system_session() as session:
        contents = list(
            await session.scalars(
                select(InboundContent).where(InboundContent.tenant_id == tenant.id)
            )
        )
    media = [c.media for c in contents if c.media]
    assert media == [
        [
            {
                "content_type": "image/jpeg",
                "provider_media_id": "9001",
                "url": None,
                "caption": "the receipt",
            }
        ]
    ]
    assert [c.location for c in contents if c.location] == [
        {"latitude": 51.5, "longitude": -0.12, "name": "Shop", "address": None}
    ]


async def test_stop_opts_out_with_proof_and_queues_one_confirmation(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    stop = sms_inbound(channel, sender, "Stop.")
    await receive(db, channel, [stop])
    await receive(db, channel, [stop])  # the provider retried

    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.sms_status is ConsentStatus.opted_out
    assert contact.whatsapp_status is ConsentStatus.unknown  # only the channel's medium
    [proof] = await consent_events(db, contact.id)
    assert proof.method is ConsentMethod.keyword
    assert proof.source == "sms"
    assert proof.wording == "Stop."
    inbound, reply = await messages_to(db, tenant.id, contact.id)
    assert proof.details == {"message_id": str(inbound.id), "keyword": "stop"}
    assert reply.direction is Direction.outbound
    assert reply.status is MessageStatus.queued
    assert reply.body is not None and "unsubscribed" in reply.body and "First Shop" in reply.body
    async with db.system_session() as session:
        marked = await session.get(ComplianceReply, reply.id)
        dnc = await session.scalar(select(DoNotContact).where(DoNotContact.tenant_id == tenant.id))
    assert marked is not None and marked.inbound_message_id == inbound.id
    assert dnc is None  # the tenant did not ask for it
    [event] = await events_of(db, inbound.id)
    assert event.type == "opt_out"


async def test_stop_adds_to_do_not_contact_when_the_tenant_says_so_and_start_lifts_it(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    await put_keywords(db, tenant.id, {"add_to_do_not_contact": True})
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    await receive(db, channel, [sms_inbound(channel, sender, "UNSUBSCRIBE")])
    async with db.system_session() as session:
        listed = await session.scalar(
            select(DoNotContact).where(
                DoNotContact.tenant_id == tenant.id,
                DoNotContact.phone_hash == phone_hash(tenant.id, sender),
            )
        )
    assert listed is not None and listed.reason == "stop"

    await receive(db, channel, [sms_inbound(channel, sender, "start")])

    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.sms_status is ConsentStatus.opted_in
    _, start_proof = await consent_events(db, contact.id)
    assert start_proof.details["resubscribe"] is True
    assert start_proof.previous_status is ConsentStatus.opted_out
    async with db.system_session() as session:
        still = await session.scalar(
            select(DoNotContact).where(DoNotContact.phone_hash == phone_hash(tenant.id, sender))
        )
    assert still is None
    bodies = [m.body or "" for m in await messages_to(db, tenant.id, contact.id)]
    assert any("subscribed again" in body for body in bodies)


async def test_help_answers_with_the_help_text_and_changes_no_consent(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    await receive(db, channel, [sms_inbound(channel, sender, "help")])

    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.sms_status is ConsentStatus.unknown
    assert await consent_events(db, contact.id) == []
    _, reply = await messages_to(db, tenant.id, contact.id)
    assert reply.body is not None
    for part in ("First Shop", "STOP", "Msg & data rates may apply", "frequency"):
        assert part in reply.body


async def test_yes_is_an_ordinary_answer_unless_the_contact_opted_out(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    await receive(db, channel, [sms_inbound(channel, sender, "Yes")])
    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.sms_status is ConsentStatus.unknown
    assert len(await messages_to(db, tenant.id, contact.id)) == 1  # no reply

    await receive(db, channel, [sms_inbound(channel, sender, "stop")])
    await receive(db, channel, [sms_inbound(channel, sender, "YES")])
    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.sms_status is ConsentStatus.opted_in


async def test_a_sentence_with_stop_in_it_is_a_reply(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    await receive(db, channel, [sms_inbound(channel, sender, "Don't stop the deals!")])
    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.sms_status is ConsentStatus.unknown
    [message] = await messages_to(db, tenant.id, contact.id)
    assert [e.type for e in await events_of(db, message.id)] == ["replied"]


async def test_a_provider_handled_opt_out_is_recorded_without_a_second_confirmation(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    event = twilio_inbound(sender, channel.sender, "STOP", OptOutType="STOP")
    await receive(db, channel, [event])
    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.sms_status is ConsentStatus.opted_out
    assert len(await messages_to(db, tenant.id, contact.id)) == 1


async def test_tenant_words_answer_in_their_language(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    await put_keywords(
        db,
        tenant.id,
        {"languages": {"es": {"stop": ["baja"], "stop_reply": "{business}: Te diste de baja."}}},
    )
    channel = await whatsapp_channel(db, tenant.id, sim)
    sender = phone()
    await receive(db, channel, whatsapp_inbound(sender, [text("BAJA")]))
    contact = await contact_by_phone(db, tenant.id, sender)
    assert contact.whatsapp_status is ConsentStatus.opted_out
    assert contact.sms_status is ConsentStatus.unknown
    _, reply = await messages_to(db, tenant.id, contact.id)
    assert reply.body == "First Shop: Te diste de baja."


async def test_opt_out_and_reply_events_carry_the_latest_campaign(
    db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    sender = phone()
    await receive(db, channel, [sms_inbound(channel, sender, "hello")])
    contact = await contact_by_phone(db, tenant.id, sender)
    older, newer = await running_campaign(db, channel), await running_campaign(db, channel)
    async with db.tenant_session(tenant.id) as session:
        for campaign in (older, newer):
            session.add(
                Message(
                    tenant_id=tenant.id,
                    channel_id=channel.id,
                    contact_id=contact.id,
                    campaign_id=campaign,
                    to_address=sender,
                    body="Sale!",
                    status=MessageStatus.delivered,
                )
            )
            await session.flush()

    await receive(db, channel, [sms_inbound(channel, sender, "what sale?")])
    await receive(db, channel, [sms_inbound(channel, sender, "STOP")])

    async with db.system_session() as session:
        rows = list(
            await session.execute(
                select(MessageEvent.type, MessageEvent.campaign_id).where(
                    MessageEvent.contact_id == contact.id,
                    MessageEvent.type.in_(["replied", "opt_out"]),
                )
            )
        )
    assert sorted((str(t), str(c)) for t, c in rows) == sorted(
        [("opt_out", str(newer)), ("replied", "None"), ("replied", str(newer))]
    )


async def test_erasure_forgets_media_locations_and_notes(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await whatsapp_channel(db, tenant.id, sim)
    sender = phone()
    place = {
        "id": f"wamid.{new_id().hex}",
        "type": "location",
        "location": {"latitude": 48.85, "longitude": 2.35, "name": "Home"},
    }
    await receive(db, channel, whatsapp_inbound(sender, [place]))
    contact = await contact_by_phone(db, tenant.id, sender)
    conversation = await conversation_of(db, tenant.id, contact.id)
    async with db.tenant_session(tenant.id) as session:
        session.add(
            ConversationNote(
                tenant_id=tenant.id, conversation_id=conversation.id, body="lives nearby"
            )
        )
        await session.flush()
        await erase_contact_inbox(session, other_tenant.id, contact.id)  # not theirs: no-op
    async with db.system_session() as session:
        kept = await session.scalar(
            select(func.count())
            .select_from(InboundContent)
            .where(InboundContent.tenant_id == tenant.id)
        )
    assert kept == 1

    async with db.tenant_session(tenant.id) as session:
        await erase_contact_inbox(session, tenant.id, contact.id)

    async with db.system_session() as session:
        contents = await session.scalar(
            select(func.count())
            .select_from(InboundContent)
            .where(InboundContent.tenant_id == tenant.id)
        )
        notes = await session.scalar(
            select(func.count())
            .select_from(ConversationNote)
            .where(ConversationNote.conversation_id == conversation.id)
        )
    assert (contents, notes) == (0, 0)
