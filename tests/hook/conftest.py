"""The hook tests' fixture that serves the app over real HTTP, for the simulator to call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from herald.settings import get_settings
from tests.sim.server import free_port


@pytest_asyncio.fixture
async def served(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The test app on a free port, and ``HERALD_PUBLIC_URL`` pointing at it (the lifespan is
    the test session's, already open)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("HERALD_PUBLIC_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    server.should_exit = True
    await task
