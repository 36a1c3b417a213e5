"""Scenario ``receipts``: signed Twilio status callbacks posted to ``herald api`` and applied
by one ``herald worker``, end to end; baseline: the same server's ``/healthz``.

``size`` messages wait ``sent`` with their provider ids (one ``INSERT … SELECT``). Every
callback (form body and ``X-Twilio-Signature`` over the channel's public status URL) is
built, as bytes on the wire, before the clock starts; then they are posted ``CONCURRENCY`` at
a time over keep-alive connections (``bench.wire``: the client shares the two cores with the
server, so it must cost next to nothing), and the clock
runs until every message is ``delivered``: the accept path (channel read, signature check,
a row in the next group commit) and the processor (claim, parse, one UPDATE per batch, its
events) together.
The baseline posts nothing: ``GET /healthz`` as many times, at the same concurrency.

Reported besides the standard fields: ``p50_ms``/``p99_ms`` of accepting a callback (the
answer the provider waits for), the healthz ones, ``accepted_rate`` (callbacks per second
over the posting phase alone), ``delivered`` (must equal ``units``), and the CPU each
process spent per receipt (``api_…``, ``worker_…``, ``database_cpu_ms_per_receipt``: the
database server counts every session on it, so it is only meaningful on a server of its own)
and per healthz request (``api_cpu_ms_per_healthz``).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import psutil
from sqlalchemy import text

from herald.bench import wire
from herald.bench.scenarios.api import api_server
from herald.bench.scenarios.dispatch import _worker
from herald.bench.types import BenchContext, Measurement
from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.kit.crypto import load_keyring, use_keyring
from herald.kit.ids import new_id
from herald.message.receipts import status_url
from herald.providers.twilio.webhooks import SIGNATURE_HEADER, signature
from herald.settings import Settings
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate

CONCURRENCY = 64
WARMUP = 200
TOKEN = "bench-twilio-auth-token"  # noqa: S105 - the bench channel's made-up secret
ACCOUNT = "AC" + "b" * 32
FORM = "application/x-www-form-urlencoded"
POLL_SECONDS = 0.1
DEADLINE_SECONDS = 1800.0
SENT = text(
    """
    INSERT INTO messages (id, tenant_id, channel_id, direction, purpose, to_address,
                          from_address, body, status, provider_message_id, attempts,
                          next_attempt_at, queued_at, sending_at, sent_at, created_at, updated_at)
    SELECT gen_random_uuid(), :tenant_id, :channel_id, 'outbound', 'transactional',
           '+1' || (2000000000 + i)::text, '+15550008888', 'Your code is ' || i::text, 'sent',
           :prefix || i::text, 1, now(), now(), now(), now(), now(), now()
    FROM generate_series(1, :count) AS i
    """
)
DELIVERED = text(
    "SELECT count(*) FROM messages WHERE channel_id = :channel_id AND status = 'delivered' "
    "AND provider_message_id LIKE :prefix || '%'"
)


async def _setup(ctx: BenchContext) -> UUID:
    """A tenant with a Twilio channel; returns the channel."""
    async with ctx.db.system_session() as session:
        done = await onboard_tenant(
            session, TenantCreate(name="Receipts Bench"), "receipts-bench@example.com"
        )
        channel = Channel(
            id=new_id(),
            tenant_id=done.tenant.id,
            kind=ChannelKind.sms,
            provider="twilio",
            name="bench",
            sender="+15550008888",
            config={"account_sid": ACCOUNT, "auth_token": TOKEN},
        )
        session.add(channel)
        await session.flush()
        await session.execute(
            SENT,
            {
                "tenant_id": done.tenant.id,
                "channel_id": channel.id,
                "prefix": "SMw",
                "count": WARMUP,
            },
        )
        return channel.id


async def _sent(ctx: BenchContext, channel_id: UUID, prefix: str, count: int) -> None:
    async with ctx.db.system_session() as session:
        tenant_id = await session.scalar(
            text("SELECT tenant_id FROM channels WHERE id = :id"), {"id": channel_id}
        )
        await session.execute(
            SENT,
            {"tenant_id": tenant_id, "channel_id": channel_id, "prefix": prefix, "count": count},
        )


def _callbacks(url: str, prefix: str, count: int) -> list[bytes]:
    """Every status callback as bytes on the wire, signed as Twilio signs them (built before
    any timing)."""
    made = []
    for i in range(1, count + 1):
        params = [
            ("AccountSid", ACCOUNT),
            ("MessageSid", f"{prefix}{i}"),
            ("MessageStatus", "delivered"),
            ("SmsStatus", "delivered"),
        ]
        headers = {"Content-Type": FORM, SIGNATURE_HEADER: signature(TOKEN, url, params)}
        made.append(wire.request("POST", url, headers, urlencode(params).encode()))
    return made


async def _wait_delivered(
    ctx: BenchContext, channel_id: UUID, prefix: str, count: int, worker: asyncio.subprocess.Process
) -> int:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        async with ctx.db.system_session() as session:
            done = int(
                await session.scalar(DELIVERED, {"channel_id": channel_id, "prefix": prefix}) or 0
            )
        if done >= count:
            return done
        if worker.returncode is not None:
            raise RuntimeError(f"herald worker exited with code {worker.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done} of {count} receipts applied in time")
        await asyncio.sleep(POLL_SECONDS)


def _percentiles(latencies: list[float], prefix: str = "") -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return {
        f"{prefix}p50_ms": round(cuts[49] * 1000, 2),
        f"{prefix}p99_ms": round(cuts[98] * 1000, 2),
    }


def _cpu(pid: int) -> float:
    """CPU seconds of a process and its children (uvicorn's worker processes)."""
    process = psutil.Process(pid)
    return sum(_own_cpu(p) for p in (process, *process.children(recursive=True)))


def _own_cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


async def _database_pid(ctx: BenchContext) -> int:
    """The PostgreSQL server's main process (its children are the backends, the WAL writer…)."""
    async with ctx.db.system_session() as session:
        backend = int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
    parent = psutil.Process(backend).parent()
    if parent is None:
        raise RuntimeError("the database backend has no parent process")
    return int(parent.pid)


async def run(ctx: BenchContext, size: int) -> Measurement:
    """``size`` receipts (default 100,000). Channel configs are encrypted with the keyring the
    API and worker read (the bench's data dir)."""
    with use_keyring(load_keyring(Settings(data_dir=ctx.workdir))):
        return await _measure(ctx, size)


async def _measure(ctx: BenchContext, size: int) -> Measurement:
    channel_id = await _setup(ctx)
    await _sent(ctx, channel_id, "SMb", size)
    database_pid = await _database_pid(ctx)
    async with api_server(ctx) as (base, api_pid), _worker(ctx) as worker:
        url = status_url(base, "twilio", channel_id) or ""
        warmup = _callbacks(url, "SMw", WARMUP)
        callbacks = _callbacks(url, "SMb", size)
        healthz = [wire.request("GET", f"{base}/healthz")] * size
        await wire.send_all(base, healthz[:WARMUP], CONCURRENCY)
        await wire.send_all(base, warmup, CONCURRENCY)
        await _wait_delivered(ctx, channel_id, "SMw", WARMUP, worker)
        healthz_before = _cpu(api_pid)
        started = time.perf_counter()
        baseline = await wire.send_all(base, healthz, CONCURRENCY)
        baseline_seconds = time.perf_counter() - started
        healthz_cpu = _cpu(api_pid) - healthz_before
        pids = (api_pid, worker.pid, database_pid)
        before = [_cpu(pid) for pid in pids]
        started = time.perf_counter()
        latencies = await wire.send_all(base, callbacks, CONCURRENCY)
        posted = time.perf_counter() - started
        delivered = await _wait_delivered(ctx, channel_id, "SMb", size, worker)
        seconds = time.perf_counter() - started
        api_cpu, worker_cpu, database_cpu = (
            _cpu(pid) - cpu for pid, cpu in zip(pids, before, strict=True)
        )
    extra: dict[str, Any] = {
        **_percentiles(latencies),
        **_percentiles(baseline, "healthz_"),
        "accepted_rate": round(size / posted, 1),
        "delivered": delivered,
        "concurrency": CONCURRENCY,
        "api_cpu_ms_per_receipt": round(api_cpu * 1000 / size, 3),
        "api_cpu_ms_per_healthz": round(healthz_cpu * 1000 / size, 3),
        "worker_cpu_ms_per_receipt": round(worker_cpu * 1000 / size, 3),
        "database_cpu_ms_per_receipt": round(database_cpu * 1000 / size, 3),
    }
    return Measurement(size, seconds, baseline_seconds, unit="receipts", extra=extra)
