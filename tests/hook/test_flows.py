"""The processor: stored callbacks applied after the answer — receipts in order or not,
parked until their message is known, refunds once, tenant walls, template updates, events
without a handler, reprocessing and retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

import httpx
from click.testing import Result
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from herald.cli import app as cli
from herald.hook.flows import ProcessPolicy, process_once
from herald.hook.models import WebhookEvent
from herald.hook.repository import HookRepository
from herald.hook.tasks import purge_old_events
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.models import Direction, Message, MessageEvent, MessageStatus
from herald.wallet.models import WalletTransaction
from herald.whatsapp.models import TemplateStatus, WhatsAppTemplate
from tests.conftest import TenantFixture, job_context
from tests.hook.helpers import (
    Callback,
    make_channel,
    make_message,
    meta_status,
    meta_template,
    reload_message,
    sim_receipt,
    stored_events,
    twilio_inbound,
    twilio_status,
)
from tests.message.helpers import make_template

POLICY = ProcessPolicy(batch_size=100)
S = MessageStatus


async def _post(client: httpx.AsyncClient, *callbacks: Callback) -> None:
    for callback in callbacks:
        answer = await client.post(callback.path, content=callback.body, headers=callback.headers)
        assert answer.status_code == 200, answer.text


async def _cli(*args: str) -> Result:
    """The command line in a thread: it runs an event loop of its own."""
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def _process(db: Database, *, later: timedelta = timedelta(0)) -> None:
    while await process_once(db, POLICY, utcnow() + later):
        pass


async def _events(db: Database, message_id: UUID) -> list[str]:
    async with db.system_session() as session:
        rows = await session.scalars(
            select(MessageEvent.type)
            .where(MessageEvent.message_id == message_id)
            .order_by(MessageEvent.occurred_at)
        )
        return sorted(str(t) for t in rows)


async def _refunds(db: Database, message_id: UUID) -> list[int]:
    async with db.system_session() as session:
        rows = await session.scalars(
            select(WalletTransaction.amount).where(
                WalletTransaction.reference_id == message_id,
                WalletTransaction.kind == "refund",
            )
        )
        return list(rows)


async def test_receipts_out_of_order_end_in_the_furthest_state_with_every_time(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    message = await make_message(db, channel, provider_id="sim_ooo")
    read_at, delivered_at = "2026-12-01T10:05:00+00:00", "2026-12-01T10:01:00+00:00"

    await _post(client, sim_receipt(channel.id, "sim_ooo", "read", at=read_at))
    await _process(db)
    after_read = await reload_message(db, message.id)
    await _post(client, sim_receipt(channel.id, "sim_ooo", "delivered", at=delivered_at))
    await _process(db)
    final = await reload_message(db, message.id)

    assert after_read.status is S.read
    assert after_read.delivered_at == after_read.read_at  # read stands in for the delivery
    assert final.status is S.read
    assert final.delivered_at is not None and final.delivered_at.isoformat() == delivered_at
    assert final.read_at is not None and final.read_at.isoformat() == read_at
    assert await _events(db, message.id) == ["delivered", "read"]
    assert all(e.processed_at and e.error is None for e in await stored_events(db, channel.id))


async def test_a_batch_of_statuses_for_one_message_is_applied_once(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "whatsapp_cloud")
    message = await make_message(db, channel, provider_id="wamid.B")

    await _post(
        client,
        meta_status(
            channel.id, [("wamid.B", "read"), ("wamid.B", "delivered"), ("wamid.B", "sent")]
        ),
    )
    await _process(db)

    assert (await reload_message(db, message.id)).status is S.read
    assert await _events(db, message.id) == ["delivered", "read"]


async def test_a_receipt_for_an_unknown_id_is_parked_then_applied(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")
    await _post(client, twilio_status(channel.id, "SMlate", "delivered"))

    await _process(db)
    [parked] = await stored_events(db, channel.id)
    message = await make_message(db, channel, provider_id="SMlate")
    await _process(db)  # not due yet: the back-off holds it
    waiting = await reload_message(db, message.id)
    await _process(db, later=timedelta(minutes=1))

    assert parked.processed_at is None and parked.attempts == 1
    assert parked.error and parked.error.startswith("parked")
    assert parked.next_attempt_at > parked.received_at
    assert waiting.status is S.sent
    assert (await reload_message(db, message.id)).status is S.delivered
    [done] = await stored_events(db, channel.id)
    assert done.processed_at is not None and done.error is None and done.attempts == 2


async def test_a_receipt_for_a_message_still_sending_waits_for_its_sent_record(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    message = await make_message(db, channel, status=S.sending)
    receipt = sim_receipt(channel.id, "sim_fast", "delivered", reference=str(message.id))

    await _post(client, receipt)
    await _process(db)
    still = await reload_message(db, message.id)
    async with db.system_session() as session:  # dispatch's record step commits the send
        await session.execute(
            update(type(message))
            .where(type(message).id == message.id)
            .values(status=S.sent, provider_message_id="sim_fast", sent_at=utcnow())
        )
    await _process(db, later=timedelta(minutes=1))

    assert still.status is S.sending
    assert (await reload_message(db, message.id)).status is S.delivered


async def test_an_in_doubt_message_is_settled_by_a_receipt_naming_it(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    message = await make_message(db, channel, status=S.unknown)

    await _post(
        client, sim_receipt(channel.id, "sim_doubt", "delivered", reference=str(message.id))
    )
    await _process(db)

    settled = await reload_message(db, message.id)
    assert settled.status is S.delivered and settled.provider_message_id == "sim_doubt"


async def test_a_parked_receipt_is_dropped_after_a_day(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    await _post(client, sim_receipt(channel.id, "sim_never", "delivered"))

    await _process(db)
    await _process(db, later=timedelta(hours=25))

    [dropped] = await stored_events(db, channel.id)
    assert dropped.processed_at is not None
    assert dropped.error and dropped.error.startswith("dropped")


async def test_a_late_failure_refunds_the_charge_exactly_once(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")
    message = await make_message(db, channel, provider_id="SMfail", cost_micros=7_500)

    await _post(client, twilio_status(channel.id, "SMfail", "undelivered"))
    await _process(db)
    await _post(client, twilio_status(channel.id, "SMfail", "failed"))
    await _process(db)

    ended = await reload_message(db, message.id)
    assert ended.status is S.undelivered and ended.failed_at is not None
    assert await _refunds(db, message.id) == [7_500]
    assert await _events(db, message.id) == ["failed"]


async def test_a_failure_after_delivery_changes_nothing(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")
    message = await make_message(db, channel, provider_id="SMok", cost_micros=7_500)

    await _post(client, twilio_status(channel.id, "SMok", "delivered"))
    await _process(db)
    await _post(client, twilio_status(channel.id, "SMok", "undelivered"))
    await _process(db)

    assert (await reload_message(db, message.id)).status is S.delivered
    assert await _refunds(db, message.id) == []


async def test_a_receipt_posted_to_another_tenants_channel_changes_nothing(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    mine = await make_channel(db, tenant.id, "simulator")
    theirs = await make_channel(db, other_tenant.id, "simulator")
    message = await make_message(db, mine, provider_id="sim_shared", cost_micros=5_000)

    await _post(
        client,
        sim_receipt(theirs.id, "sim_shared", "undelivered", reference=str(message.id)),
    )
    await _process(db)

    untouched = await reload_message(db, message.id)
    assert untouched.status is S.sent and untouched.error_code is None
    assert await _events(db, message.id) == [] and await _refunds(db, message.id) == []
    [parked] = await stored_events(db, theirs.id)
    assert parked.tenant_id == other_tenant.id and parked.processed_at is None


async def test_a_template_status_update_moves_the_template_with_its_reason(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "whatsapp_cloud")
    template_id = await make_template(db, tenant.id, channel.id, name="spring_sale")
    async with db.tenant_session(tenant.id) as session:
        await session.execute(
            update(WhatsAppTemplate)
            .where(WhatsAppTemplate.id == template_id)
            .values(meta_template_id="778899")
        )

    await _post(client, meta_template(channel.id, "778899", "spring_sale", "PAUSED", "LOW_QUALITY"))
    await _process(db)

    async with db.tenant_session(tenant.id) as session:
        template = await session.get(WhatsAppTemplate, template_id)
        assert template is not None
    assert template.status is TemplateStatus.PAUSED
    assert template.rejection_reason == "LOW_QUALITY"
    assert template.status_history[-1]["source"] == "meta_webhook"
    [event] = await stored_events(db, channel.id)
    assert event.processed_at is not None and event.error is None


async def test_an_inbound_callback_reaches_the_inbox_and_reprocessing_adds_no_second_message(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, cli_env: None
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")

    await _post(client, twilio_inbound(channel.id, "SMin", "Hi"))
    await _process(db)
    [first] = await stored_events(db, channel.id)
    result = await _cli("hooks", "reprocess", "--since", "2000-01-01T00:00:00+00:00", "--json")
    await _process(db)

    assert first.processed_at is not None and first.error is None
    assert result.exit_code == 0, result.output
    assert '"requeued"' in result.output
    async with db.tenant_session(tenant.id) as session:
        inbound = (
            await session.scalars(
                select(Message).where(
                    Message.channel_id == channel.id, Message.direction == Direction.inbound
                )
            )
        ).all()
    assert [m.body for m in inbound] == ["Hi"]
    [again] = await stored_events(db, channel.id)
    assert again.processed_at is not None and again.error is None


async def test_reprocess_refuses_a_time_that_is_not_iso(cli_env: None) -> None:
    result = await _cli("hooks", "reprocess", "--since", "yesterday")

    assert result.exit_code != 0
    assert "ISO 8601" in result.output


async def test_retention_deletes_events_older_than_the_setting(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    await _post(
        client,
        sim_receipt(channel.id, "sim_old", "sent"),
        sim_receipt(channel.id, "sim_new", "sent"),
    )
    async with db.system_session() as session:
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.dedupe_key == "sim_old:sent", WebhookEvent.channel_id == channel.id)
            .values(received_at=utcnow() - timedelta(days=91))
        )

    deleted = await purge_old_events(job_context(db, "hooks:purge"), 0)

    assert deleted >= 1
    assert [e.dedupe_key for e in await stored_events(db, channel.id)] == ["sim_new:sent"]
    async with db.system_session() as session:
        left = await session.scalar(
            select(func.count()).where(WebhookEvent.received_at < utcnow() - timedelta(days=90))
        )
    assert left == 0


async def test_two_processors_share_the_work_without_waiting_for_each_other(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    await _process(db)  # whatever earlier tests left due
    channel = await make_channel(db, tenant.id, "simulator")
    messages = [await make_message(db, channel, provider_id=f"sim_share_{i}") for i in range(6)]
    await _post(client, *(sim_receipt(channel.id, f"sim_share_{i}", "delivered") for i in range(6)))

    async with db.system_session() as session:  # another processor holds the oldest three
        held = await HookRepository(session).claim(3, utcnow())
        taken = await asyncio.wait_for(process_once(db, POLICY), timeout=30)

    assert len(held) == 3 and taken == 3
    statuses = [(await reload_message(db, m.id)).status for m in messages]
    assert statuses == [S.sent] * 3 + [S.delivered] * 3
    await _process(db)
    assert [(await reload_message(db, m.id)).status for m in messages] == [S.delivered] * 6
