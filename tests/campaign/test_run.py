"""Campaigns against the dispatcher and the simulator: stats that always equal the message
rows, pause/resume/cancel while sending, and a worker killed mid-campaign."""

from __future__ import annotations

import asyncio
import signal
import time
from uuid import UUID

import aiohttp
import httpx
from fastapi import FastAPI

from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.dispatch import DispatchPolicy, dispatch_once, reconcile
from herald.message.models import MessageStatus
from herald.sim.state import SenderControl
from tests.campaign.helpers import (
    FAST,
    act,
    contact,
    create,
    many_contacts,
    noon_zone,
    run_dispatch,
    status_counts,
)
from tests.conftest import TenantFixture
from tests.message.dispatch_fixtures import make_channel
from tests.message.test_dispatch_processes import ENDED, StartWorker, at_provider, start_worker
from tests.sim.server import SimServer

__all__ = ["start_worker"]


async def read(client: httpx.AsyncClient, tenant: TenantFixture, campaign_id: str) -> dict:  # type: ignore[type-arg]
    answer = await client.get(f"/v1/campaigns/{campaign_id}", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def test_stats_equal_the_message_rows_after_failures_and_retries(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=200)
    sim.sim.state.senders[channel.sender] = SenderControl(
        fail_permanent_share=0.25, fail_transient_share=0.25
    )
    await many_contacts(db, tenant.id, 120, noon_zone())
    made = await create(client, tenant, channel.id)
    await act(client, tenant, made["id"], "send", expect=202)

    await dispatch_once(db, http, FAST)
    midway = await read(client, tenant, made["id"])
    counts = await status_counts(db, made["id"])
    assert {k: midway["stats"][k] for k in counts} == counts
    assert midway["stats"]["total"] == 120

    await run_dispatch(db, http, made["id"], rounds=80)
    done = await read(client, tenant, made["id"])
    counts = await status_counts(db, made["id"])
    assert done["status"] == "completed"
    assert {k: done["stats"][k] for k in counts} == counts
    assert sum(counts.values()) == 120
    assert done["stats"]["failed"] > 0 and done["stats"]["sent"] > 0
    assert done["stats"]["queued"] == done["stats"]["sending"] == 0


async def test_pause_stops_the_dispatcher_and_resume_lets_it_go_on(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    for _ in range(5):
        await contact(db, tenant.id, timezone=noon_zone())
    made = await create(client, tenant, channel.id)
    await act(client, tenant, made["id"], "send", expect=202)
    await act(client, tenant, made["id"], "pause")

    for _ in range(3):
        await dispatch_once(db, http, FAST)
    assert await status_counts(db, made["id"]) == {"queued": 5}
    assert (await read(client, tenant, made["id"]))["status"] == "paused"

    await act(client, tenant, made["id"], "resume")
    await run_dispatch(db, http, made["id"])
    assert await status_counts(db, made["id"]) == {"sent": 5}
    assert (await read(client, tenant, made["id"]))["status"] == "completed"


async def test_cancel_mid_send_fails_what_was_not_sent_and_sends_nothing_more(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=1)
    for _ in range(6):
        await contact(db, tenant.id, timezone=noon_zone())
    made = await create(client, tenant, channel.id)
    await act(client, tenant, made["id"], "send", expect=202)
    for _ in range(50):
        await dispatch_once(db, http, FAST)
        if (await status_counts(db, made["id"])).get("sent"):
            break
        await asyncio.sleep(0.06)

    cancelled = await act(client, tenant, made["id"], "cancel")
    assert cancelled["status"] == "cancelled"
    sent = (await status_counts(db, made["id"]))["sent"]
    assert 0 < sent < 6
    await asyncio.sleep(1.1)
    for _ in range(3):
        await dispatch_once(db, http, FAST)
    assert await status_counts(db, made["id"]) == {"sent": sent, "failed": 6 - sent}
    assert sum(at_provider(sim, channel.sender).values()) == sent
    stats = (await read(client, tenant, made["id"]))["stats"]
    assert (stats["sent"], stats["failed"]) == (sent, 6 - sent)


async def test_a_worker_killed_mid_campaign_sends_nothing_twice_and_loses_nothing(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    sim: SimServer,
    start_worker: StartWorker,
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=50)
    sim.sim.state.senders[channel.sender] = SenderControl(delay_ms=1500)
    await many_contacts(db, tenant.id, 300, noon_zone())
    made = await create(client, tenant, channel.id)
    await act(client, tenant, made["id"], "send", expect=202)

    first = start_worker()
    deadline = time.monotonic() + 60
    while "sending" not in await status_counts(db, made["id"]):
        assert time.monotonic() < deadline, "the worker never started sending"
        await asyncio.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    while first.poll() is None:  # noqa: ASYNC110 - the simulator serves on this loop
        await asyncio.sleep(0.05)
    sim.sim.state.senders.pop(channel.sender)

    start_worker()
    deadline = time.monotonic() + 120
    while (await status_counts(db, made["id"])).get("queued"):
        assert time.monotonic() < deadline, await status_counts(db, made["id"])
        await asyncio.sleep(0.3)
    await asyncio.sleep(2.0)  # the killed worker's requests reach the simulator meanwhile
    async with db.system_session() as session:
        await reconcile(session, DispatchPolicy(in_doubt_after=1.5), utcnow())

    counts = await status_counts(db, made["id"])
    assert sum(counts.values()) == 300
    assert set(counts) <= {s.value for s in ENDED}
    assert counts.get(MessageStatus.unknown.value), "the kill landed after the batch"
    provider = at_provider(sim, channel.sender)
    assert max(provider.values()) == 1
    assert counts.get("sent", 0) <= len(provider)
    stats = (await read(client, tenant, made["id"]))["stats"]
    assert {k: stats[k] for k in counts} == counts
    assert all(isinstance(UUID(ref), UUID) for ref in provider if ref)
