"""Receipts flow back from the simulator: messages sent by the dispatch engine reach
``delivered``/``read`` through signed callbacks to the API served on a real port, and a
controlled undelivered share ends ``undelivered`` with its charge refunded."""

from __future__ import annotations

import asyncio
from uuid import UUID

import aiohttp
from fastapi import FastAPI
from sqlalchemy import select

from herald.hook.flows import ProcessPolicy, process_once
from herald.kit.database import Database
from herald.message.dispatch import DispatchPolicy, dispatch_once
from herald.message.models import MessageStatus
from herald.sim.state import SenderControl
from herald.wallet.models import WalletTransaction
from tests.conftest import TenantFixture
from tests.message.dispatch_fixtures import events_of, make_channel, messages_of, queue
from tests.sim.server import SimServer, http, sim, sim_server

__all__ = ["http", "sim", "sim_server"]

SIGNING_SECRET = "test-signing-secret"
"""The one ``dispatch_fixtures.make_channel`` gives its channels."""
WAIT_SECONDS = 20.0


async def _settle(db: Database, ids: list[UUID]) -> None:
    """Apply receipts as they come until every message has ended (or the wait runs out)."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    ended = {MessageStatus.read, MessageStatus.undelivered}
    while asyncio.get_running_loop().time() < deadline:
        await process_once(db, ProcessPolicy())
        if all(m.status in ended for m in await messages_of(db, ids)):
            return
        await asyncio.sleep(0.05)


async def test_receipts_from_the_simulator_settle_sent_messages(
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
    served: str,
) -> None:
    good = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    bad = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    controls = sim.sim.state.senders
    controls[good.sender] = SenderControl(
        signing_secret=SIGNING_SECRET, read_share=1.0, receipt_delay_ms=0
    )
    controls[bad.sender] = SenderControl(
        signing_secret=SIGNING_SECRET, undelivered_share=1.0, receipt_delay_ms=0
    )
    delivered = await queue(db, good, 3)
    undelivered = await queue(db, bad, 2, to="+14155550200")

    await dispatch_once(db, http, DispatchPolicy(idle_seconds=0.01))
    await _settle(db, delivered + undelivered)

    for message in await messages_of(db, delivered):
        assert message.status is MessageStatus.read
        assert message.delivered_at and message.read_at and message.sent_at
    for message in await messages_of(db, undelivered):
        assert message.status is MessageStatus.undelivered
        assert message.error_code == "unreachable" and message.failed_at
    assert await events_of(db, delivered) == {"sent": 3, "delivered": 3, "read": 3}
    assert await events_of(db, undelivered) == {"sent": 2, "failed": 2}
    async with db.system_session() as session:
        refunds = await session.scalars(
            select(WalletTransaction.reference_id).where(
                WalletTransaction.kind == "refund",
                WalletTransaction.reference_id.in_(undelivered),
            )
        )
        assert sorted(refunds) == sorted(undelivered)
