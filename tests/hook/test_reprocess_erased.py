"""Callbacks blanked when their sender was erased: reprocessing leaves them alone (nothing
is left in them to apply, and their mark says why they are empty), and the stats do not count
them as failed."""

from __future__ import annotations

import asyncio

import httpx
from typer.testing import CliRunner

from herald.cli import app as cli
from herald.hook.repository import BLANKED
from herald.hook.service import forget_number
from herald.kit.context import Role
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.hook.helpers import make_channel, process_all, stored_events, twilio_inbound

SENDER = "+14155550177"


async def _reprocess(*args: str) -> None:
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["hooks", "reprocess", *args])
    assert result.exit_code == 0, result.output


async def test_a_blanked_callback_is_not_requeued(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    cli_env: None,
) -> None:
    erased = await make_channel(db, tenant.id, "twilio")
    kept = await make_channel(db, other_tenant.id, "twilio")
    for channel in (erased, kept):
        callback = twilio_inbound(channel.id, f"SM{channel.id.hex}", "Hello", SENDER)
        answer = await client.post(callback.path, content=callback.body, headers=callback.headers)
        assert answer.status_code == 200, answer.text
    await process_all(db)
    async with db.tenant_session(tenant.id) as session:
        assert await forget_number(session, tenant.id, SENDER) == 1

    await _reprocess("--failed")
    await _reprocess()
    await process_all(db)

    [blanked] = await stored_events(db, erased.id)
    assert blanked.payload == b""
    assert blanked.error == BLANKED
    assert blanked.processed_at is not None and blanked.attempts == 1
    [other] = await stored_events(db, kept.id)
    assert other.payload != b"" and other.error is None
    assert other.processed_at is not None and other.attempts == 2


async def test_only_the_whole_number_is_blanked_not_a_longer_one_that_contains_it(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")
    senders = {"erased": SENDER, "longer": "+1" + SENDER[1:] + "9", "ends alike": "+4" + SENDER[1:]}
    for name, sender in senders.items():
        callback = twilio_inbound(channel.id, f"SM-{name.replace(' ', '-')}", "Hello", sender)
        answer = await client.post(callback.path, content=callback.body, headers=callback.headers)
        assert answer.status_code == 200, answer.text
    await process_all(db)

    async with db.tenant_session(tenant.id) as session:
        assert await forget_number(session, tenant.id, SENDER) == 1

    payloads = {e.dedupe_key: e.payload for e in await stored_events(db, channel.id)}
    assert payloads["SM-erased"] == b""
    assert payloads["SM-longer"] != b"" and payloads["SM-ends-alike"] != b""


async def test_a_blanked_callback_is_not_counted_as_failed(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")
    callback = twilio_inbound(channel.id, f"SM{channel.id.hex}", "Hello", SENDER)
    await client.post(callback.path, content=callback.body, headers=callback.headers)
    await process_all(db)
    async with db.tenant_session(tenant.id) as session:
        await forget_number(session, tenant.id, SENDER)

    answer = await client.get("/v1/hooks/stats", headers=await tenant.key_for(Role.viewer))

    assert answer.status_code == 200, answer.text
    [stats] = [s for s in answer.json()["items"] if s["channel_id"] == str(channel.id)]
    assert (stats["received"], stats["pending"], stats["failed"]) == (1, 0, 0)
    theirs = await client.get("/v1/hooks/stats", headers=other_tenant.headers)
    assert str(channel.id) not in {s["channel_id"] for s in theirs.json()["items"]}
