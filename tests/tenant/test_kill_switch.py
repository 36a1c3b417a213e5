"""The kill switch: ``PATCH /v1/tenant {"paused": …}`` and ``herald tenant pause|unpause``; while
it is thrown the dispatcher leaves the tenant's queued messages where they are."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from uuid import UUID, uuid4

import aiohttp
import httpx
import psycopg
import pytest_asyncio
from fastapi import FastAPI
from typer.testing import CliRunner

from herald.cli import app as cli
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.embedded import to_libpq_url
from herald.kit.models import utcnow
from herald.message.dispatch import (
    DispatchPolicy,
    claim_batch,
    record_results,
    run_dispatcher,
    send_all,
)
from herald.message.models import MessageStatus
from herald.sim.state import SenderControl
from tests.conftest import MakeTenant, TenantFixture
from tests.message.dispatch_fixtures import make_channel, messages_of, queue
from tests.sim.server import SimServer, sim, sim_server

__all__ = ["sim", "sim_server"]

runner = CliRunner()
DEADLINE = 30.0


async def _pause(client: httpx.AsyncClient, tenant: TenantFixture, paused: bool) -> None:
    response = await client.patch("/v1/tenant", json={"paused": paused}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json()["is_paused"] is paused


class TestPauseRoute:
    async def test_admin_pauses_and_unpauses(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        await _pause(client, tenant, True)
        assert (await client.get("/v1/tenant", headers=tenant.headers)).json()["is_paused"]
        theirs = (await client.get("/v1/tenant", headers=other_tenant.headers)).json()
        assert theirs["is_paused"] is False
        await _pause(client, tenant, False)
        assert not (await client.get("/v1/tenant", headers=tenant.headers)).json()["is_paused"]

    async def test_manager_cannot_pause(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        headers = await tenant.key_for(Role.manager)
        response = await client.patch("/v1/tenant", json={"paused": True}, headers=headers)
        assert response.status_code == 403
        assert not (await client.get("/v1/tenant", headers=tenant.headers)).json()["is_paused"]

    async def test_the_switch_is_audited(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        await _pause(client, tenant, True)
        log = await client.get(
            "/v1/audit-log", params={"resource_type": "tenants"}, headers=tenant.headers
        )
        [entry] = log.json()["items"]
        assert entry["changes"] == {"is_paused": {"old": False, "new": True}}


def _audit_actions(database_url: str, tenant_id: UUID) -> list[tuple[str, object]]:
    with psycopg.connect(to_libpq_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT action, changes FROM audit_log WHERE tenant_id = %s AND resource_type = "
            "'tenants' ORDER BY id",
            (tenant_id,),
        ).fetchall()
    return [(str(action), changes) for action, changes in rows]


def test_cli_pause_then_unpause_is_audited(
    cli_env: None, database_url: str, tenant: TenantFixture
) -> None:
    paused = runner.invoke(
        cli, ["tenant", "pause", str(tenant.id), "--reason", "runaway campaign", "--json"]
    )
    assert paused.exit_code == 0, paused.output
    assert json.loads(paused.stdout.strip().splitlines()[-1]) == {
        "tenant_id": str(tenant.id),
        "paused": True,
    }
    unpaused = runner.invoke(cli, ["tenant", "unpause", str(tenant.id)])
    assert unpaused.exit_code == 0, unpaused.output
    assert "sending resumes" in unpaused.output

    assert _audit_actions(database_url, tenant.id) == [
        ("tenant.paused", {"is_paused": {"old": False, "new": True}, "reason": "runaway campaign"}),
        ("tenant.unpaused", {"is_paused": {"old": True, "new": False}, "reason": None}),
    ]


def test_cli_pause_of_an_unknown_tenant_is_refused(cli_env: None) -> None:
    outcome = runner.invoke(cli, ["tenant", "pause", str(uuid4())])
    assert outcome.exit_code == 2
    assert "No tenant" in outcome.output


@pytest_asyncio.fixture
async def dispatcher(db: Database) -> AsyncIterator[None]:
    """The dispatch loop running in the background, as in a worker, until the test ends."""
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as http:
        task = asyncio.create_task(
            run_dispatcher(db, http, stop, DispatchPolicy(idle_seconds=0.05, lanes=1))
        )
        yield
        stop.set()
        await task


async def _wait_for(
    db: Database, ids: Sequence[UUID], done: Callable[[list[MessageStatus]], bool]
) -> None:
    deadline = time.monotonic() + DEADLINE
    statuses: list[MessageStatus] = []
    while time.monotonic() < deadline:
        statuses = [m.status for m in await messages_of(db, ids)]
        if done(statuses):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out; statuses: {statuses}")


async def test_a_paused_tenant_sends_nothing_while_the_dispatcher_runs_then_resumes(
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    sim: SimServer,
    dispatcher: None,
) -> None:
    paused, running = await make_tenant("Paused"), await make_tenant("Running")
    await _pause(client, paused, True)
    held = await queue(db, await make_channel(db, app, paused.id, sim, rate_per_second=100), 3)
    going = await queue(db, await make_channel(db, app, running.id, sim, rate_per_second=100), 3)

    await _wait_for(db, going, lambda statuses: set(statuses) == {MessageStatus.sent})
    # The other tenant's later messages were claimed after these were due: the dispatcher
    # passed over the paused tenant's, batch after batch.
    later = await queue(db, await make_channel(db, app, running.id, sim, rate_per_second=100), 1)
    await _wait_for(db, later, lambda statuses: statuses == [MessageStatus.sent])
    waiting = await messages_of(db, held)
    assert {(m.status, m.attempts) for m in waiting} == {(MessageStatus.queued, 0)}

    await _pause(client, paused, False)

    await _wait_for(db, held, lambda statuses: set(statuses) == {MessageStatus.sent})


@contextlib.asynccontextmanager
async def _slow_dispatcher(db: Database) -> AsyncIterator[None]:
    """One lane handing over four messages at a time: a claimed batch of hundreds lasts many
    seconds against a slow provider, as it can in production."""
    stop = asyncio.Event()
    policy = DispatchPolicy(idle_seconds=0.05, lanes=1, concurrency=4)
    async with aiohttp.ClientSession() as http:
        task = asyncio.create_task(run_dispatcher(db, http, stop, policy))
        try:
            yield
        finally:
            stop.set()
            await task


async def test_a_pause_stops_a_batch_in_flight_within_two_seconds(
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    sim: SimServer,
) -> None:
    paused, running = await make_tenant("Paused mid-batch"), await make_tenant("Still running")
    mine = await make_channel(db, app, paused.id, sim, rate_per_second=200)
    theirs = await make_channel(db, app, running.id, sim, rate_per_second=200)
    for channel in (mine, theirs):
        sim.sim.state.senders[channel.sender] = SenderControl(delay_ms=100)
    held = await queue(db, mine, 150)
    going = await queue(db, theirs, 30, to="+14155560100")

    async with _slow_dispatcher(db):
        while not any(sim.sim.state.find(to=None, sender=mine.sender, provider=None)):  # noqa: ASYNC110 - the simulator serves on this loop
            await asyncio.sleep(0.05)
        await _pause(client, paused, True)
        paused_at = utcnow()
        await _wait_for(db, held + going, lambda s: MessageStatus.sending not in s)
        await _wait_for(db, going, lambda statuses: set(statuses) == {MessageStatus.sent})

        arrivals = [
            m.created_at for m in sim.sim.state.find(to=None, sender=mine.sender, provider=None)
        ]
        assert arrivals and max(arrivals) < paused_at + timedelta(seconds=2)
        waiting = [m for m in await messages_of(db, held) if m.status is MessageStatus.queued]
        assert waiting, "the batch ended before the pause: nothing was in flight to stop"
        assert {m.error_code for m in waiting} <= {"tenant_paused", None}

        await _pause(client, paused, False)
        await _wait_for(db, held, lambda statuses: set(statuses) == {MessageStatus.sent})
    at_provider = Counter(
        m.reference for m in sim.sim.state.find(to=None, sender=mine.sender, provider=None)
    )
    assert sorted(at_provider) == sorted(str(i) for i in held)
    assert set(at_provider.values()) == {1}


async def test_a_message_held_by_a_pause_keeps_its_attempts(
    db: Database, app: FastAPI, make_tenant: MakeTenant, sim: SimServer
) -> None:
    """Held back in flight, a message was not tried: its attempts stay as they were, so a
    tenant pausing often never brings its messages nearer to giving up."""
    paused, running = await make_tenant("Paused while claimed"), await make_tenant("Sending")
    mine = await make_channel(db, app, paused.id, sim, rate_per_second=200)
    theirs = await make_channel(db, app, running.id, sim, rate_per_second=200)
    held = await queue(db, mine, 2)
    going = await queue(db, theirs, 1, to="+14155560200")
    policy = DispatchPolicy()

    async with db.system_session() as session:
        _, batch = await claim_batch(session, policy, utcnow())
    async with aiohttp.ClientSession() as http:
        results = await send_all(http, batch.jobs, policy.concurrency, held={paused.id})
    async with db.system_session() as session:
        await record_results(session, batch.jobs, results, policy, utcnow())

    waiting = await messages_of(db, held)
    assert {m.status for m in waiting} == {MessageStatus.queued}
    assert {m.error_code for m in waiting} == {"tenant_paused"}
    assert {m.attempts for m in waiting} == {0}
    [sent] = await messages_of(db, going)
    assert sent.status is MessageStatus.sent and sent.attempts == 1
