"""The minute tick: due scheduled campaigns launch (or fail with the reason) and running ones
with nothing left to send complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from herald.campaign.models import Campaign
from herald.campaign.tasks import tick
from herald.kit.database import Database
from herald.message.models import Message
from tests.campaign.helpers import act, contact, create, noon_zone
from tests.conftest import TenantFixture, job_context
from tests.message.dispatch_fixtures import make_channel
from tests.sim.server import SimServer


async def _due_now(db: Database, *campaign_ids: str) -> None:
    """Move the scheduled time into the past (the schedule itself must be in the future)."""
    async with db.system_session() as session:
        await session.execute(
            update(Campaign)
            .where(Campaign.id.in_([UUID(i) for i in campaign_ids]))
            .values(next_run_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def test_the_tick_launches_due_campaigns_and_completes_finished_ones(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    await contact(db, tenant.id, timezone=noon_zone(), tags=["vip"])
    later = {"type": "at", "at": "2031-01-01T10:00:00Z"}
    due = await create(client, tenant, channel.id)
    nobody = await create(client, tenant, channel.id, audience={"tags": ["nobody"]})
    for made in (due, nobody):
        await act(client, tenant, made["id"], "schedule", schedule=later)
    await _due_now(db, due["id"], nobody["id"])

    swept = await tick(job_context(db, "campaigns:tick"), 0)
    assert swept["launched"] >= 1 and swept["refused"] >= 1

    launched = (await client.get(f"/v1/campaigns/{due['id']}", headers=tenant.headers)).json()
    assert launched["status"] == "running" and launched["stats"]["queued"] == 1
    failed = (await client.get(f"/v1/campaigns/{nobody['id']}", headers=tenant.headers)).json()
    assert (failed["status"], failed["status_reason"]) == ("failed", "no_recipients")

    async with db.system_session() as session:
        await session.execute(
            update(Message).where(Message.campaign_id == UUID(due["id"])).values(status="sent")
        )
    swept = await tick(job_context(db, "campaigns:tick"), 0)
    assert swept["completed"] >= 1
    async with db.tenant_session(tenant.id) as session:
        row = await session.get(Campaign, UUID(due["id"]))
        assert row is not None and row.status.value == "completed" and row.completed_at
