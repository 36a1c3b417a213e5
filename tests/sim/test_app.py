from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from herald.sim.app import PLANNED_PROVIDERS, create_sim_app


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_sim_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
        yield client


async def test_healthz_answers(sim: httpx.AsyncClient) -> None:
    response = await sim.get("/sim/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_info_says_it_is_a_stub_that_accepts_no_messages(sim: httpx.AsyncClient) -> None:
    response = await sim.get("/sim")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "stub"
    assert body["accepts_messages"] is False
    assert body["planned_providers"] == list(PLANNED_PROVIDERS)


async def test_everything_lives_under_the_sim_prefix(sim: httpx.AsyncClient) -> None:
    assert (await sim.get("/healthz")).status_code == 404
    assert (await sim.get("/sim/openapi.json")).status_code == 200
