"""Scenario ``campaign``: ``size`` recipients from ``send`` to ``completed``, end to end.

An API process (mounting the simulator under ``/sim``) and one ``herald worker`` run on the
bench database. A tenant gets ``size`` opted-in contacts (seeded with one ``INSERT … SELECT``,
each in a zone where it is midday, so quiet hours hold nobody back) and a simulator channel
without caps. The worker asks for status callbacks at the bench's API, and the simulator signs
them with the channel's secret, so delivery receipts flow back through ``/v1/hooks`` while the
campaign sends, as they would in production. The worker is started and warmed up with one
message before the clock starts (its start-up is not the send path). The clock runs from
``POST /v1/campaigns/{id}/send`` until ``GET /v1/campaigns/{id}`` answers ``completed``: the
launch, the dispatch of every message and the completion, through the public API. Baseline, in
the same run: a bare aiohttp client posting as many requests to the same simulator, as many in
flight as the worker allows.

Reported besides the standard fields: ``worker_peak_rss_mb`` (the worker process alone; the
standard peak RSS adds the bench process and the API), ``launch_ms`` (the send request alone),
the CPU milliseconds per message of the worker and of the API (which serves the simulator and
the receipts), the campaign's final stats and how many receipts were applied by the end.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import aiohttp
import psutil
from sqlalchemy import text

from herald.bench.memory import PeakMemory
from herald.bench.scenarios.api import api_server
from herald.bench.scenarios.dispatch import _baseline, _cpu_seconds, _queue, _wait_done, _worker
from herald.bench.types import BenchContext, Measurement
from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.kit.crypto import load_keyring, use_keyring
from herald.kit.ids import new_id
from herald.message.dispatch import DispatchPolicy
from herald.settings import Settings
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate

POLL_SECONDS = 0.25
SENDER = "+15550008888"
SIGNING_SECRET = "bench-signing-secret"  # noqa: S105 - the simulator channel of a throwaway database
HANDED_OVER = ("sent", "delivered", "read", "undelivered")
"""The statuses of a message the provider accepted (receipts move it on from ``sent``)."""
DEADLINE_SECONDS = 1800.0
SEED = text(
    """
    INSERT INTO contacts (id, tenant_id, phone_e164, sms_status, timezone, created_at,
                          updated_at)
    SELECT gen_random_uuid(), :tenant_id, '+4479' || lpad(i::text, 8, '0'), 'opted_in', :zone,
           now(), now()
    FROM generate_series(1, :count) AS i
    """
)


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now."""
    offset = (12 - now.hour + 12) % 24 - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def _setup(ctx: BenchContext, sim_url: str, size: int) -> tuple[str, UUID, UUID]:
    """A tenant (its API key and id) with ``size`` contacts and an uncapped simulator
    channel (its id)."""
    async with ctx.db.system_session() as session:
        done = await onboard_tenant(
            session, TenantCreate(name="Campaign Bench"), "campaign-bench@example.com"
        )
        tenant_id = done.tenant.id
        channel = Channel(
            id=new_id(),
            tenant_id=tenant_id,
            kind=ChannelKind.sms,
            provider="simulator",
            name="bench",
            sender=SENDER,
            config={
                "api_base_url": sim_url,
                "api_key": "bench-key",
                "signing_secret": SIGNING_SECRET,
            },
            rate_per_second=1_000_000,
        )
        session.add(channel)
        zone = midday_zone(datetime.now(UTC))
        await session.execute(SEED, {"tenant_id": tenant_id, "count": size, "zone": zone})
    async with ctx.db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE contacts"))
    return done.api_key.secret, channel.id, tenant_id


async def _campaign(http: aiohttp.ClientSession, base: str, key: str, channel_id: UUID) -> str:
    body = {
        "name": "Bench sale",
        "channel_id": str(channel_id),
        "body": "Spring sale: 20% off today. Reply STOP to opt out",
        "audience": {"all": True},
    }
    async with http.post(f"{base}/v1/campaigns", json=body, headers=_auth(key)) as answer:
        if answer.status != 201:
            raise RuntimeError(f"creating the campaign answered {answer.status}")
        return str((await answer.json())["id"])


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _run_to_completion(
    http: aiohttp.ClientSession,
    base: str,
    key: str,
    campaign_id: str,
    worker: asyncio.subprocess.Process,
) -> tuple[float, dict[str, Any]]:
    """Send, then poll until completed; returns the send request's seconds and the stats."""
    url = f"{base}/v1/campaigns/{campaign_id}"
    started = time.perf_counter()
    async with http.post(f"{url}/send", headers=_auth(key)) as answer:
        if answer.status != 202:
            raise RuntimeError(f"send answered {answer.status}: {await answer.text()}")
    launch_seconds = time.perf_counter() - started
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        async with http.get(url, headers=_auth(key)) as answer:
            read = await answer.json()
        if read["status"] == "completed":
            return launch_seconds, read["stats"]
        if worker.returncode is not None:
            raise RuntimeError(f"herald worker exited with code {worker.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the campaign did not complete in time: {read['stats']}")
        await asyncio.sleep(POLL_SECONDS)


async def run(ctx: BenchContext, size: int) -> Measurement:
    """Channel configs are encrypted with the keyring the worker reads (the bench data dir)."""
    with use_keyring(load_keyring(Settings(data_dir=ctx.workdir))):
        return await _measure(ctx, size)


async def _measure(ctx: BenchContext, size: int) -> Measurement:
    policy = DispatchPolicy()
    concurrency = policy.concurrency * policy.lanes
    async with api_server(ctx) as (base, api_pid), aiohttp.ClientSession() as http:
        sim_url = f"{base}/sim"
        key, channel_id, tenant_id = await _setup(ctx, sim_url, size)
        baseline_seconds = await _baseline(sim_url, size, concurrency)
        await _sign_receipts(http, sim_url)
        campaign_id = await _campaign(http, base, key, channel_id)
        async with _worker(ctx, public_url=base) as worker:
            await _queue(ctx, tenant_id, 1)  # warm-up: the worker is up once it is sent
            await _wait_done(ctx, tenant_id, worker)
            await (await http.delete(f"{sim_url}/messages")).read()
            memory = PeakMemory(psutil.Process(worker.pid))
            cpu_before = await _cpu_seconds(worker.pid), await _cpu_seconds(api_pid)
            with memory.sampling():
                started = time.perf_counter()
                launch_seconds, stats = await _run_to_completion(
                    http, base, key, campaign_id, worker
                )
                seconds = time.perf_counter() - started
            worker_cpu = await _cpu_seconds(worker.pid) - cpu_before[0]
            api_cpu = await _cpu_seconds(api_pid) - cpu_before[1]
    extra: dict[str, Any] = {
        "worker_peak_rss_mb": round(memory.peak_mb, 1),
        "launch_ms": round(launch_seconds * 1000, 1),
        "sent": sum(stats[status] for status in HANDED_OVER),
        "failed": stats["failed"],
        "delivered_by_completion": stats["delivered"] + stats["read"],
        "worker_cpu_ms_per_message": round(worker_cpu * 1000 / size, 3),
        "api_cpu_ms_per_message": round(api_cpu * 1000 / size, 3),
        "in_flight": concurrency,
    }
    return Measurement(size, seconds, baseline_seconds, unit="messages", extra=extra)


async def _sign_receipts(http: aiohttp.ClientSession, sim_url: str) -> None:
    """The simulator signs the channel's receipts with its secret, so the hooks accept them."""
    control = {"signing_secret": SIGNING_SECRET}
    async with http.put(f"{sim_url}/control/senders/{SENDER}", json=control) as answer:
        if answer.status != 200:
            raise RuntimeError(f"the simulator's control answered {answer.status}")
    await (await http.delete(f"{sim_url}/messages")).read()
