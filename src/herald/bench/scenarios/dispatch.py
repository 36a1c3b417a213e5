"""Scenario ``dispatch``: queued messages sent to the simulator by one ``herald worker``.

An API process (mounting the simulator under ``/sim``) and one worker process are started on
the bench database. The worker is warmed up with one message, then ``size`` messages are queued
in one ``INSERT … SELECT`` and the clock runs from their commit until none is left ``queued``
or ``sending``: claim, price, cap windows, the provider call, the recorded outcome and its
event, all of it. The baseline is a bare aiohttp client posting the same requests (same body,
same headers, as many in flight as the worker allows) to the same simulator.

Reported besides the standard fields: ``worker_peak_rss_mb`` and ``worker_cpu_ms_per_message``
(the worker process alone: on a free core it could send 1000 / that per second), ``sent`` and
``failed`` (every message must end ``sent``), ``simulator_listed`` (what the simulator recorded
in the timed phase, as its list shows it: at most 100,000) and the API process's CPU per
message, for the dispatch and the baseline: when they are close, the simulator is the limit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import aiohttp
import psutil
from sqlalchemy import text

from herald.bench.memory import PeakMemory
from herald.bench.scenarios.api import api_server
from herald.bench.types import BenchContext, Measurement
from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.kit.crypto import load_keyring, use_keyring
from herald.kit.ids import new_id
from herald.message.dispatch import DispatchPolicy
from herald.providers.simulator.wire import MESSAGES_PATH
from herald.runtime.supervisor import herald_command
from herald.settings import Settings
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate

SENDER = "+15550009999"
API_KEY = "bench-key"
POLL_SECONDS = 0.25
DEADLINE_SECONDS = 1800.0
QUEUE = text(
    """
    INSERT INTO messages (id, tenant_id, channel_id, direction, purpose, to_address,
                          from_address, body, status, attempts, next_attempt_at, queued_at,
                          created_at, updated_at)
    SELECT gen_random_uuid(), :tenant_id, :channel_id, 'outbound', 'transactional',
           '+1' || (2000000000 + i)::text, :sender, 'Your code is ' || i::text, 'queued', 0,
           now(), now(), now(), now()
    FROM generate_series(1, :count) AS i
    """
)
PENDING = text(
    "SELECT count(*) FROM messages WHERE tenant_id = :tenant_id AND status IN ('queued', 'sending')"
)
ENDED = text("SELECT status, count(*) FROM messages WHERE tenant_id = :tenant_id GROUP BY status")


async def _setup(ctx: BenchContext, sim_url: str) -> UUID:
    """A tenant with a simulator channel uncapped for the run; returns the tenant."""
    async with ctx.db.system_session() as session:
        done = await onboard_tenant(
            session, TenantCreate(name="Dispatch Bench"), "dispatch-bench@example.com"
        )
        session.add(
            Channel(
                id=new_id(),
                tenant_id=done.tenant.id,
                kind=ChannelKind.sms,
                provider="simulator",
                name="bench",
                sender=SENDER,
                config={
                    "api_base_url": sim_url,
                    "api_key": API_KEY,
                    "signing_secret": "bench-signing-secret",
                },
                rate_per_second=1_000_000,
            )
        )
    return done.tenant.id


async def _queue(ctx: BenchContext, tenant_id: UUID, count: int) -> None:
    async with ctx.db.system_session() as session:
        channel_id = await session.scalar(
            text("SELECT id FROM channels WHERE tenant_id = :t"), {"t": tenant_id}
        )
        await session.execute(
            QUEUE,
            {"tenant_id": tenant_id, "channel_id": channel_id, "sender": SENDER, "count": count},
        )


async def _pending(ctx: BenchContext, tenant_id: UUID) -> int:
    async with ctx.db.system_session() as session:
        return int(await session.scalar(PENDING, {"tenant_id": tenant_id}) or 0)


async def _wait_done(
    ctx: BenchContext, tenant_id: UUID, worker: asyncio.subprocess.Process
) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while await _pending(ctx, tenant_id):
        if worker.returncode is not None:
            raise RuntimeError(f"herald worker exited with code {worker.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not finish in time")
        await asyncio.sleep(POLL_SECONDS)


@asynccontextmanager
async def _worker(
    ctx: BenchContext, public_url: str | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    """One ``herald worker``; with ``public_url``, the status callbacks it asks providers for
    point there (the bench's own API) rather than at the default address."""
    env = {
        **os.environ,
        "HERALD_DATABASE_URL": ctx.database_url,
        "HERALD_DATA_DIR": str(ctx.workdir),
        "HERALD_LOG_LEVEL": "WARNING",
    }
    if public_url is not None:
        env["HERALD_PUBLIC_URL"] = public_url
    process = await asyncio.create_subprocess_exec(
        *herald_command(["worker", "--concurrency", "1"]),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await process.wait()


async def _baseline(sim_url: str, count: int, concurrency: int) -> float:
    """The same requests the simulator adapter makes, posted by a bare client."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    remaining = iter(range(count))
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def lane(http: aiohttp.ClientSession) -> None:
        for i in remaining:
            payload = {
                "to": f"+1{2000000000 + i}",
                "from": SENDER,
                "body": f"Your code is {i}",
                "reference": str(new_id()),
                "callback_url": None,
            }
            async with http.post(sim_url + MESSAGES_PATH, json=payload, headers=headers) as r:
                await r.read()
                if r.status != 201:
                    raise RuntimeError(f"the simulator answered {r.status}")

    async with aiohttp.ClientSession(connector=connector) as http:
        start = time.perf_counter()
        await asyncio.gather(*(lane(http) for _ in range(concurrency)))
        return time.perf_counter() - start


async def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


async def run(ctx: BenchContext, size: int) -> Measurement:
    """``size`` messages (default 200,000) through one worker, and the bare-client baseline.
    Channel configs are encrypted with the keyring the worker will read (the bench's data
    dir), and the process keyring is restored afterwards."""
    with use_keyring(load_keyring(Settings(data_dir=ctx.workdir))):
        return await _measure(ctx, size)


async def _measure(ctx: BenchContext, size: int) -> Measurement:
    policy = DispatchPolicy()
    concurrency = policy.concurrency * policy.lanes
    async with api_server(ctx) as (base, api_pid):
        sim_url = f"{base}/sim"
        tenant_id = await _setup(ctx, sim_url)
        async with aiohttp.ClientSession() as http:
            await _baseline(sim_url, min(size, 1000), concurrency)  # warm-up
            cpu_before = await _cpu_seconds(api_pid)
            baseline_seconds = await _baseline(sim_url, size, concurrency)
            baseline_cpu = await _cpu_seconds(api_pid) - cpu_before
            await (await http.delete(f"{sim_url}/messages")).read()
            async with _worker(ctx) as worker:
                await _queue(ctx, tenant_id, 1)  # warm-up: the worker is up once it is sent
                await _wait_done(ctx, tenant_id, worker)
                await (await http.delete(f"{sim_url}/messages")).read()
                memory = PeakMemory(psutil.Process(worker.pid))
                cpu_before = await _cpu_seconds(api_pid)
                worker_before = await _cpu_seconds(worker.pid)
                with memory.sampling():
                    await _queue(ctx, tenant_id, size)
                    start = time.perf_counter()
                    await _wait_done(ctx, tenant_id, worker)
                    seconds = time.perf_counter() - start
                dispatch_cpu = await _cpu_seconds(api_pid) - cpu_before
                worker_cpu = await _cpu_seconds(worker.pid) - worker_before
            async with http.get(f"{sim_url}/messages", params={"limit": 100_000}) as answer:
                accepted = len((await answer.json())["items"])
    async with ctx.db.system_session() as session:
        ended = {str(s): int(n) for s, n in await session.execute(ENDED, {"tenant_id": tenant_id})}
    extra: dict[str, Any] = {
        "worker_peak_rss_mb": round(memory.peak_mb, 1),
        "sent": ended.get("sent", 0) - 1,
        "failed": ended.get("failed", 0),
        "simulator_listed": accepted,
        "worker_cpu_ms_per_message": round(worker_cpu * 1000 / size, 3),
        "simulator_cpu_ms_per_message": round(dispatch_cpu * 1000 / size, 3),
        "baseline_simulator_cpu_ms_per_message": round(baseline_cpu * 1000 / size, 3),
        "in_flight": concurrency,
    }
    return Measurement(size, seconds, baseline_seconds, unit="messages", extra=extra)
