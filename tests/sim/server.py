"""Fixtures serving the simulator (and a callback receiver) over real HTTP on free ports.

Imported by the conftest of ``tests/sim`` and ``tests/providers``: adapters are tested end to
end against the simulator, exactly as they will talk to a provider.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest_asyncio
import uvicorn
from aiohttp import web
from fastapi import FastAPI

from herald.sim.app import PREFIX, build_simulator
from herald.sim.core import Simulator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


WAIT = 10.0


@dataclass
class SimServer:
    url: str
    sim: Simulator

    def reset(self) -> None:
        state = self.sim.state
        state.clear()
        state.senders.clear()
        state.credentials.clear()
        state.templates.clear()


@pytest_asyncio.fixture(scope="session")
async def sim_server() -> AsyncIterator[SimServer]:
    sim = Simulator()
    app = FastAPI()
    app.mount(PREFIX, build_simulator(sim))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    yield SimServer(f"http://127.0.0.1:{port}{PREFIX}", sim)
    server.should_exit = True
    await task
    await sim.aclose()


@pytest_asyncio.fixture
async def sim(sim_server: SimServer) -> AsyncIterator[SimServer]:
    """The shared simulator, emptied and back to its defaults for this test."""
    sim_server.reset()
    yield sim_server
    await sim_server.sim.courier.drain()


@dataclass
class Captured:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server that records every request and answers as told."""

    url: str
    requests: asyncio.Queue[Captured] = field(default_factory=asyncio.Queue)
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    refuse_first: int = 0

    async def next(self) -> Captured:
        """The next request received; fails the test after ``WAIT`` seconds without one."""
        return await asyncio.wait_for(self.requests.get(), WAIT)

    async def handle(self, request: web.Request) -> web.Response:
        captured = Captured(
            request.method, str(request.url), dict(request.headers), await request.read()
        )
        await self.requests.put(captured)
        if self.refuse_first > 0:
            self.refuse_first -= 1
            return web.Response(status=500)
        return web.Response(
            status=self.status, body=self.body, content_type=self.content_type, headers=self.headers
        )


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    target = Receiver(f"http://127.0.0.1:{port}")
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", target.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield target
    await runner.cleanup()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
