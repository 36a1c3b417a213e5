"""The callback lane answers exactly as the same app without it (FastAPI routing the callbacks)
would, names the route in the metrics, and leaves a wrong method to FastAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from herald.app import create_app
from herald.hook.lane import CallbackLane
from herald.hook.service import MAX_BODY
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.hook.helpers import (
    Callback,
    make_channel,
    sim_receipt,
    stored_events,
    twilio_status,
)


@pytest_asyncio.fixture
async def routed(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The same app without the lane: FastAPI routes the callbacks."""
    plain = create_app(app.state.settings, app.state.db)
    plain.user_middleware = [m for m in plain.user_middleware if m.cls is not CallbackLane]
    transport = httpx.ASGITransport(app=plain)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
        yield c


def _answer(response: httpx.Response) -> tuple[int, str | None, Any]:
    """What a provider sees, less the request id (each request has its own)."""
    body: Any = response.text
    if response.headers.get("content-type", "").endswith("json"):
        body = {k: v for k, v in response.json().items() if k != "request_id"}
    return response.status_code, response.headers.get("X-Herald-Duplicate"), body


async def _both(
    client: httpx.AsyncClient, routed: httpx.AsyncClient, make: Any
) -> tuple[tuple[int, str | None, Any], tuple[int, str | None, Any]]:
    laned: Callback = make("lane")
    plain: Callback = make("plain")
    return (
        _answer(await client.post(laned.path, content=laned.body, headers=laned.headers)),
        _answer(await routed.post(plain.path, content=plain.body, headers=plain.headers)),
    )


async def test_the_lane_answers_as_fastapis_routing_does(
    client: httpx.AsyncClient,
    routed: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
) -> None:
    twilio = await make_channel(db, tenant.id, "twilio")
    sim = await make_channel(db, other_tenant.id, "simulator")
    replayed = twilio_status(twilio.id, "SM-replayed", "delivered")
    cases = {
        "stored": lambda side: twilio_status(twilio.id, f"SM-{side}", "delivered"),
        "replay": lambda side: replayed,
        "bad signature": lambda side: twilio_status(twilio.id, "SM-x", "sent", token="wrong-1"),
        "another provider's channel": lambda side: Callback(
            f"/v1/hooks/twilio/{sim.id}/status", replayed.body, replayed.headers
        ),
        "not a uuid": lambda side: Callback(
            "/v1/hooks/twilio/not-a-uuid/status", replayed.body, replayed.headers
        ),
        "too large": lambda side: Callback(
            f"/v1/hooks/simulator/{sim.id}", b"x" * (MAX_BODY + 1), {"Content-Type": "text/plain"}
        ),
        "bad json": lambda side: Callback(
            f"/v1/hooks/simulator/{sim.id}", b"{", sim_receipt(sim.id, "s", "sent").headers
        ),
    }
    await client.post(replayed.path, content=replayed.body, headers=replayed.headers)

    for name, make in cases.items():
        laned, plain = await _both(client, routed, make)
        assert laned == plain, name

    assert {e.dedupe_key for e in await stored_events(db, twilio.id)} == {
        "SM-replayed:delivered",
        "SM-lane:delivered",
        "SM-plain:delivered",
    }


async def test_the_metrics_name_the_callback_route(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")
    callback = twilio_status(channel.id, "SM-metrics", "delivered")

    answer = await client.post(callback.path, content=callback.body, headers=callback.headers)

    assert answer.status_code == 200
    assert answer.headers["X-Request-ID"]
    metrics = (await client.get("/metrics")).text
    assert 'route="/v1/hooks/twilio/{channel_id}/status"' in metrics
    assert str(channel.id) not in metrics


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_a_callback_url_with_a_method_it_does_not_take_is_fastapis_405(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, method: str
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")

    answer = await client.request(method, f"/v1/hooks/twilio/{channel.id}/status")

    assert answer.status_code == 405
    assert "POST" in answer.headers["Allow"]
    assert await stored_events(db, channel.id) == []
