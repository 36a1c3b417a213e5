"""Scenario ``redirect``: ``GET /l/{token}`` at a steady rate; baseline ``/healthz`` at that rate.

10,000 links (one per contact, made by ``create_links`` as the send pipeline will) are followed
by a browser's user agent, open-loop: request *i* is sent at ``start + i / RATE`` whether or not
earlier ones have answered, as clicks arrive in life, so a slow answer cannot slow the arrivals
and hide itself. Latency is counted from that scheduled instant. Redirects are not followed.

Reported besides the standard fields: ``p50_ms`` and ``p99_ms`` of the redirect, ``requests``,
and ``clicks_recorded`` — the rise in the links' click counters over the timed phase, which
must equal ``requests``. ``healthz_p50_ms``/``healthz_p99_ms`` are the baseline's, and
``server_cpu_ms_per_request`` the API process's CPU per request (for each endpoint), which does
not depend on how busy the machine is.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import aiohttp
import psutil
from sqlalchemy import func, select, text

from herald.bench.scenarios.api import api_server
from herald.bench.types import BenchContext, Measurement
from herald.link.models import ShortLink
from herald.link.service import create_links
from herald.settings import Settings
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate

LINKS = 10_000
RATE = 1_000
"""Requests per second, for the redirect and the baseline alike."""
WARMUP_REQUESTS = 500
CONNECTIONS = 64
"""At most this many requests in flight; later ones wait for a connection (and it shows)."""
KEEPALIVE = 2.0
"""Below uvicorn's 5 s, so the client never reuses a connection the server is closing."""
TARGET = "https://shop.example/collections/summer?ref=sms"
BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
CONTACTS = text(
    "INSERT INTO contacts (id, tenant_id, phone_e164, created_at, updated_at) "
    "SELECT gen_random_uuid(), :tenant_id, '+1' || (2000000000 + i)::text, now(), now() "
    "FROM generate_series(1, :count) AS i RETURNING id"
)


async def _links(ctx: BenchContext, settings: Settings) -> tuple[UUID, list[str]]:
    """A fresh tenant with ``LINKS`` contacts and a link for each: the tenant and the tokens."""
    async with ctx.db.system_session() as session:
        done = await onboard_tenant(
            session, TenantCreate(name="Redirect Bench"), "redirect-bench@example.com"
        )
        tenant_id = done.tenant.id
        result = await session.execute(CONTACTS, {"tenant_id": tenant_id, "count": LINKS})
        contacts = [row[0] for row in result]
        urls = await create_links(
            session, settings, tenant_id, TARGET, [(c, None) for c in contacts]
        )
    return tenant_id, [url.rsplit("/", 1)[1] for url in urls.values()]


async def _clicks(ctx: BenchContext, tenant_id: UUID) -> int:
    async with ctx.db.system_session() as session:
        stmt = select(func.coalesce(func.sum(ShortLink.clicks), 0)).where(
            ShortLink.tenant_id == tenant_id
        )
        return int(await session.scalar(stmt) or 0)


async def steady(
    http: aiohttp.ClientSession, urls: list[str], count: int, expected: int
) -> tuple[float, list[float]]:
    """``count`` GETs at ``RATE`` per second, each sent at its own scheduled instant; the wall
    time and each request's latency from that instant. Any other status fails the run."""
    latencies: list[float] = []
    headers = {"User-Agent": BROWSER}

    async def one(url: str, due: float) -> None:
        async with http.get(url, headers=headers, allow_redirects=False) as response:
            await response.read()
            if response.status != expected:
                raise RuntimeError(f"GET {url} answered {response.status}, not {expected}")
        latencies.append(time.perf_counter() - due)

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for i in range(count):
        due = start + i / RATE
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(urls[i % len(urls)], due)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - start, latencies


@contextmanager
def _cpu(process: psutil.Process) -> Iterator[list[float]]:
    """The API process's CPU seconds spent inside the block (the load-independent cost)."""
    spent = [0.0]
    before = sum(process.cpu_times()[:2])
    yield spent
    spent[0] = sum(process.cpu_times()[:2]) - before


def _percentiles(latencies: list[float], prefix: str = "") -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return {
        f"{prefix}p50_ms": round(cuts[49] * 1000, 2),
        f"{prefix}p99_ms": round(cuts[98] * 1000, 2),
    }


async def run(ctx: BenchContext, size: int) -> Measurement:
    """``size`` redirects (default: 20 s at ``RATE``) over ``LINKS`` distinct links."""
    settings = Settings(data_dir=ctx.workdir)  # the server's secret key, read from workdir
    tenant_id, tokens = await _links(ctx, settings)
    async with api_server(ctx) as (base, pid):
        server = psutil.Process(pid)
        links = [f"{base}/l/{token}" for token in tokens]
        health = [f"{base}/healthz"]
        connector = aiohttp.TCPConnector(limit=CONNECTIONS, keepalive_timeout=KEEPALIVE)
        async with aiohttp.ClientSession(connector=connector) as http:
            await steady(http, health, WARMUP_REQUESTS, 200)
            await steady(http, links, WARMUP_REQUESTS, 302)
            with _cpu(server) as baseline_cpu:
                baseline_seconds, baseline_latencies = await steady(http, health, size, 200)
            before = await _clicks(ctx, tenant_id)
            with _cpu(server) as cpu:
                seconds, latencies = await steady(http, links, size, 302)
            recorded = await _clicks(ctx, tenant_id) - before
    extra: dict[str, Any] = {
        **_percentiles(latencies),
        "requests": size,
        "clicks_recorded": recorded,
        "links": len(tokens),
        "rate_per_second": RATE,
        "max_ms": round(max(latencies) * 1000, 2),
        "server_cpu_ms_per_request": round(cpu[0] * 1000 / size, 3),
        "healthz_server_cpu_ms_per_request": round(baseline_cpu[0] * 1000 / size, 3),
        **_percentiles(baseline_latencies, "healthz_"),
    }
    return Measurement(size, seconds, baseline_seconds, unit="requests", extra=extra)
