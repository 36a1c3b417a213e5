"""What the foreign keys of ``messages`` did, now that a launch writes its rows without them
(migration 0023): the launch's own ids, a deleted contact, a channel in use, a deleted tenant,
and the lock a launch holds on its senders. A second tenant's rows never move."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from herald.campaign.repository import CampaignRepository
from herald.kit.context import Role
from herald.kit.database import Database
from herald.message.models import Message
from tests.campaign.helpers import contact, create
from tests.campaign.test_launch import launch_at
from tests.conftest import TenantFixture
from tests.message.dispatch_fixtures import make_channel
from tests.sim.server import SimServer

RECIPIENTS = 4


async def _launched(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> UUID:
    """A campaign to ``RECIPIENTS`` new contacts, launched; returns its channel."""
    channel = await make_channel(db, app, tenant.id, sim)
    for _ in range(RECIPIENTS):
        await contact(db, tenant.id)
    made = await create(client, tenant, channel.id)
    assert await launch_at(db, tenant.id, made["id"], datetime.now(UTC)) == RECIPIENTS
    return channel.id


@pytest_asyncio.fixture
async def both_launched(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sim: SimServer,
) -> tuple[UUID, UUID]:
    """A launched campaign in each tenant; their channels (``tenant``'s first)."""
    return (
        await _launched(client, db, app, tenant, sim),
        await _launched(client, db, app, other_tenant, sim),
    )


async def _messages(db: Database, tenant_id: UUID) -> dict[UUID, UUID | None]:
    """The tenant's messages: id → contact id."""
    async with db.system_session() as session:
        rows = await session.execute(
            select(Message.id, Message.contact_id).where(Message.tenant_id == tenant_id)
        )
        return {row[0]: row[1] for row in rows}


async def test_launched_ids_are_distinct_version_7_uuids(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture, both_launched: object
) -> None:
    ids = [*await _messages(db, tenant.id), *await _messages(db, other_tenant.id)]

    assert len(set(ids)) == 2 * RECIPIENTS
    assert {i.version for i in ids} == {7}
    assert {i.variant for i in ids} == {"specified in RFC 4122"}


async def test_deleting_a_contact_unlinks_its_messages(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    both_launched: object,
) -> None:
    before = await _messages(db, tenant.id)
    others = await _messages(db, other_tenant.id)
    message_id, contact_id = next(iter(before.items()))
    url = f"/v1/contacts/{contact_id}"

    viewer = await tenant.key_for(Role.viewer)
    assert (await client.delete(url, headers=viewer)).status_code == 403
    assert (await client.delete(url, headers=other_tenant.headers)).status_code == 404
    assert await _messages(db, tenant.id) == before
    assert (await client.delete(url, headers=tenant.headers)).status_code == 204

    after = await _messages(db, tenant.id)
    assert after == {**before, message_id: None}
    assert await _messages(db, other_tenant.id) == others


async def test_a_channel_with_launched_messages_stays(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sim: SimServer,
) -> None:
    channel_id = await _launched(client, db, app, tenant, sim)
    unused = await make_channel(db, app, other_tenant.id, sim)

    viewer = await tenant.key_for(Role.viewer)
    url = f"/v1/channels/{channel_id}"
    assert (await client.delete(url, headers=viewer)).status_code == 403
    assert (await client.delete(url, headers=other_tenant.headers)).status_code == 404
    refused = await client.delete(url, headers=tenant.headers)
    assert refused.status_code == 409, refused.text
    assert (await client.get(url, headers=tenant.headers)).status_code == 200
    gone = await client.delete(f"/v1/channels/{unused.id}", headers=other_tenant.headers)
    assert gone.status_code == 204


@pytest.mark.parametrize(
    ("status", "provider_id"),
    [("sent", "SM-1"), ("failed", None), ("queued", "SM-2")],
    ids=["sent", "failed-before-sending", "queued-again"],
)
async def test_a_channel_whose_messages_left_the_queue_stays(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    both_launched: tuple[UUID, UUID],
    status: str,
    provider_id: str | None,
) -> None:
    """The channel and provider id index holds only messages handed over or out of the queue
    (migration 0025): the channel-in-use check finds the others among the tenant's queued."""
    channel_id, other_channel = both_launched
    async with db.system_session() as session:
        await session.execute(
            text(
                "UPDATE messages SET status = :status, provider_message_id = :provider_id "
                "WHERE channel_id = :channel_id"
            ),
            {"status": status, "provider_id": provider_id, "channel_id": channel_id},
        )

    refused = await client.delete(f"/v1/channels/{channel_id}", headers=tenant.headers)
    assert refused.status_code == 409, refused.text
    url = f"/v1/channels/{other_channel}"
    assert (await client.delete(url, headers=tenant.headers)).status_code == 404
    assert (await client.delete(url, headers=other_tenant.headers)).status_code == 409


async def test_a_deleted_tenant_takes_its_messages(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture, both_launched: object
) -> None:
    others = await _messages(db, other_tenant.id)

    async with db.system_session() as session:
        await session.execute(text("DELETE FROM tenants WHERE id = :id"), {"id": tenant.id})

    assert await _messages(db, tenant.id) == {}
    assert await _messages(db, other_tenant.id) == others


async def test_a_launch_holds_its_senders_until_it_commits(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)

    async with db.tenant_session(tenant.id) as launching:
        await CampaignRepository(launching).hold_senders(tenant.id, [channel.id])
        with pytest.raises(DBAPIError, match="lock"):
            async with db.system_session() as deleting:
                await deleting.execute(text("SET LOCAL lock_timeout = '200ms'"))
                await deleting.execute(
                    text("DELETE FROM channels WHERE id = :id"), {"id": channel.id}
                )
