"""Scenario ``campaign``: ``size`` recipients from ``send`` to ``completed``, end to end.

An API process (mounting the simulator under ``/sim``) and one ``herald worker`` run on the
bench database. A tenant gets ``size`` opted-in contacts (seeded with one ``INSERT … SELECT``,
each in a zone where it is midday, so quiet hours hold nobody back) and a simulator channel
without caps. The clock runs from ``POST /v1/campaigns/{id}/send`` until ``GET
/v1/campaigns/{id}`` answers ``completed``: the launch, the dispatch of every message and the
completion, through the public API. Baseline, in the same run: a bare aiohttp client posting as
many requests to the same simulator, as many in flight as the worker allows.

Reported besides the standard fields: ``worker_peak_rss_mb``, ``launch_ms`` (the send request
alone), and the campaign's final stats.
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
from herald.bench.scenarios.dispatch import _baseline, _worker
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


async def _setup(ctx: BenchContext, sim_url: str, size: int) -> tuple[str, UUID]:
    """A tenant (its API key) with ``size`` contacts and an uncapped simulator channel."""
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
            sender="+15550008888",
            config={
                "api_base_url": sim_url,
                "api_key": "bench-key",
                "signing_secret": "bench-signing-secret",
            },
            rate_per_second=1_000_000,
        )
        session.add(channel)
        zone = midday_zone(datetime.now(UTC))
        await session.execute(SEED, {"tenant_id": tenant_id, "count": size, "zone": zone})
    async with ctx.db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE contacts"))
    return done.api_key.secret, channel.id


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
    async with api_server(ctx) as (base, _api_pid), aiohttp.ClientSession() as http:
        sim_url = f"{base}/sim"
        key, channel_id = await _setup(ctx, sim_url, size)
        baseline_seconds = await _baseline(sim_url, size, concurrency)
        await (await http.delete(f"{sim_url}/messages")).read()
        campaign_id = await _campaign(http, base, key, channel_id)
        async with _worker(ctx) as worker:
            memory = PeakMemory(psutil.Process(worker.pid))
            with memory.sampling():
                started = time.perf_counter()
                launch_seconds, stats = await _run_to_completion(
                    http, base, key, campaign_id, worker
                )
                seconds = time.perf_counter() - started
    extra: dict[str, Any] = {
        "worker_peak_rss_mb": round(memory.peak_mb, 1),
        "launch_ms": round(launch_seconds * 1000, 1),
        "sent": stats["sent"],
        "failed": stats["failed"],
        "in_flight": concurrency,
    }
    return Measurement(size, seconds, baseline_seconds, unit="messages", extra=extra)
