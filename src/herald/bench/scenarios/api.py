"""Scenario ``api``: authenticated ``GET /v1/tenant`` against the same server's ``/healthz``.

The real API runs under uvicorn in a subprocess on the bench database; both endpoints get
the same number of requests at the same concurrency, so the ratio is what authentication,
the tenant-scoped transaction and serialization cost on top of bare HTTP handling.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import psutil

from herald.bench.types import BenchContext, Measurement
from herald.runtime.supervisor import herald_command
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate

CONCURRENCY = 32
WARMUP_REQUESTS = 64
READY_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def api_server(ctx: BenchContext) -> AsyncIterator[tuple[str, int]]:
    """``herald api`` on a free port against the bench database: its URL and pid."""
    port = free_port()
    env = {
        **os.environ,
        "HERALD_DATABASE_URL": ctx.database_url,
        "HERALD_HOST": "127.0.0.1",
        "HERALD_PORT": str(port),
        "HERALD_DATA_DIR": str(ctx.workdir),
        "HERALD_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        *herald_command(["api"]), env=env, stdout=asyncio.subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(base, process)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()


async def _wait_ready(base: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"herald api exited with code {process.returncode}")
            try:
                async with http.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"herald api not ready after {READY_TIMEOUT:.0f} s")


async def fire(
    http: aiohttp.ClientSession, url: str, count: int, headers: dict[str, str]
) -> tuple[float, list[float]]:
    """``count`` GETs, ``CONCURRENCY`` in flight; the wall time and each request's latency.

    Any answer but 200 fails the run: a benchmark that counts errors as work means nothing.
    """
    remaining = iter(range(count))
    latencies: list[float] = []

    async def lane() -> None:
        for _ in remaining:
            started = time.perf_counter()
            async with http.get(url, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {url} answered {response.status}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(min(CONCURRENCY, count))))
    return time.perf_counter() - started, latencies


def _percentiles_ms(latencies: list[float], prefix: str) -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        f"{prefix}_p50_ms": round(cuts[49] * 1000, 2),
        f"{prefix}_p99_ms": round(cuts[98] * 1000, 2),
    }


async def run(ctx: BenchContext, size: int) -> Measurement:
    async with ctx.db.system_session() as session:
        done = await onboard_tenant(session, TenantCreate(name="Bench Shop"), "bench@example.com")
    auth = {"Authorization": f"Bearer {done.api_key.secret}"}
    async with api_server(ctx) as (base, pid):
        server = psutil.Process(pid)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as http:
            await fire(http, f"{base}/healthz", WARMUP_REQUESTS, {})
            await fire(http, f"{base}/v1/tenant", WARMUP_REQUESTS, auth)
            baseline_seconds, baseline_latencies = await fire(http, f"{base}/healthz", size, {})
            cpu_before = sum(server.cpu_times()[:2])
            seconds, latencies = await fire(http, f"{base}/v1/tenant", size, auth)
            server_cpu = sum(server.cpu_times()[:2]) - cpu_before
    extra: dict[str, Any] = {
        "concurrency": CONCURRENCY,
        "server_cpu_seconds_per_1000": round(server_cpu * 1000 / size, 4),
        **_percentiles_ms(latencies, "tenant"),
        **_percentiles_ms(baseline_latencies, "healthz"),
    }
    return Measurement(size, seconds, baseline_seconds, unit="requests", extra=extra)
