"""An agent's reply retried with the same ``Idempotency-Key`` (a dropped connection, a double
click) answers the first reply's message: the contact gets one text, not two."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from sqlalchemy import func, select

from herald.channel.models import Channel
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.models import Direction, Message
from tests.conftest import TenantFixture
from tests.inbox.helpers import phone, receive, sms_channel, sms_inbound
from tests.sim.server import SimServer, sim, sim_server

__all__ = ["sim", "sim_server"]


@pytest.fixture
async def sms(db: Database, tenant: TenantFixture, sim: SimServer) -> Channel:
    return await sms_channel(db, tenant.id, sim)


async def test_a_retried_reply_is_queued_once(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sms: Channel,
) -> None:
    await receive(db, sms, [sms_inbound(sms, phone(), "still open today?")])
    listed = await client.get(
        "/v1/conversations", params={"channel_id": str(sms.id)}, headers=tenant.headers
    )
    [item] = listed.json()["items"]
    path = f"/v1/conversations/{item['id']}/replies"
    answer = {"body": "Until six."}
    agent = await tenant.key_for(Role.agent) | {"Idempotency-Key": "reply-1"}
    viewer = await tenant.key_for(Role.viewer) | {"Idempotency-Key": "reply-1"}
    elsewhere = other_tenant.headers | {"Idempotency-Key": "reply-1"}

    assert (await client.post(path, json=answer, headers=viewer)).status_code == 403
    assert (await client.post(path, json=answer, headers=elsewhere)).status_code == 404
    first = await client.post(path, json=answer, headers=agent)
    again = await client.post(path, json=answer, headers=agent)
    changed = await client.post(path, json={"body": "Until seven."}, headers=agent)

    assert first.status_code == again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"]
    assert changed.status_code == 409 and "Idempotency-Key" in changed.json()["detail"]
    async with db.tenant_session(tenant.id) as session:
        outbound = await session.scalar(
            select(func.count()).where(
                Message.contact_id == item["contact_id"], Message.direction == Direction.outbound
            )
        )
    assert outbound == 1


async def test_a_retried_reply_leaves_a_newer_message_unread(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    db: Database,
    sms: Channel,
) -> None:
    """The retry answers the first reply's message without making it the thread's last again:
    what the contact wrote since stays the last message, unread."""
    sender = phone()
    await receive(db, sms, [sms_inbound(sms, sender, "open on sunday?")])
    listed = await client.get(
        "/v1/conversations", params={"channel_id": str(sms.id)}, headers=tenant.headers
    )
    [item] = [i for i in listed.json()["items"] if i["unread_count"] == 1]
    path = f"/v1/conversations/{item['id']}/replies"
    agent = await tenant.key_for(Role.agent) | {"Idempotency-Key": "reply-2"}
    first = await client.post(path, json={"body": "Noon to five."}, headers=agent)
    later = replace(sms_inbound(sms, sender, "and on monday?"), received_at=utcnow())
    await receive(db, sms, [later])

    again = await client.post(path, json={"body": "Noon to five."}, headers=agent)

    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    thread = await client.get(f"/v1/conversations/{item['id']}", headers=tenant.headers)
    assert thread.json()["last_direction"] == "inbound"
    assert thread.json()["unread_count"] == 1
    assert thread.json()["last_message_id"] != first.json()["id"]
    elsewhere = await client.get(f"/v1/conversations/{item['id']}", headers=other_tenant.headers)
    assert elsewhere.status_code == 404
