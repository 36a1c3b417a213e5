"""Requests the inbox refuses with a 422 that says why, rather than answering something
nobody asked for: contradictory list filters and a snooze that ends before it starts."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from herald.channel.models import Channel
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.models import utcnow
from tests.conftest import TenantFixture
from tests.inbox.helpers import phone, receive, sms_channel, sms_inbound
from tests.sim.server import SimServer, sim, sim_server

__all__ = ["sim", "sim_server"]


@pytest.fixture
async def sms(db: Database, tenant: TenantFixture, sim: SimServer) -> Channel:
    return await sms_channel(db, tenant.id, sim)


async def test_assigned_to_someone_and_unassigned_is_refused(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    both = {"assigned_to": str(tenant.owner_id), "unassigned": "true"}
    for headers in (await tenant.key_for(Role.viewer), other_tenant.headers):
        refused = await client.get("/v1/conversations", params=both, headers=headers)
        assert refused.status_code == 422, refused.text
        assert "'assigned_to' or 'unassigned'" in refused.json()["detail"]
    alone = await client.get(
        "/v1/conversations", params={"unassigned": "true"}, headers=tenant.headers
    )
    assert alone.status_code == 200


async def test_a_snooze_must_end_in_the_future(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sms: Channel,
) -> None:
    await receive(db, sms, [sms_inbound(sms, phone(), "later please")])
    listed = await client.get(
        "/v1/conversations", params={"channel_id": str(sms.id)}, headers=tenant.headers
    )
    [item] = listed.json()["items"]
    path = f"/v1/conversations/{item['id']}"
    agent = await tenant.key_for(Role.agent)
    past = {"status": "snoozed", "snoozed_until": (utcnow() - timedelta(hours=1)).isoformat()}

    refused = await client.patch(path, json=past, headers=agent)
    assert refused.status_code == 422, refused.text
    assert "future" in refused.json()["detail"]
    assert (await client.get(path, headers=agent)).json()["status"] == "open"

    soon = {"status": "snoozed", "snoozed_until": (utcnow() + timedelta(hours=1)).isoformat()}
    viewer = await tenant.key_for(Role.viewer)
    assert (await client.patch(path, json=soon, headers=viewer)).status_code == 403
    assert (await client.patch(path, json=soon, headers=other_tenant.headers)).status_code == 404
    snoozed = await client.patch(path, json=soon, headers=agent)
    assert snoozed.status_code == 200 and snoozed.json()["status"] == "snoozed"


async def test_a_tag_filter_is_read_as_tags_are_stored(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sms: Channel,
) -> None:
    """Tags are kept without surrounding spaces, so the filter drops them too; a blank tag
    names nothing and is refused, as on contacts."""
    await receive(db, sms, [sms_inbound(sms, phone(), "tag me")])
    listed = await client.get(
        "/v1/conversations", params={"channel_id": str(sms.id)}, headers=tenant.headers
    )
    [item] = listed.json()["items"]
    tagged = await client.patch(
        f"/v1/conversations/{item['id']}",
        json={"tags": [" vip "]},
        headers=await tenant.key_for(Role.agent),
    )
    assert tagged.json()["tags"] == ["vip"]
    viewer = await tenant.key_for(Role.viewer)

    padded = await client.get("/v1/conversations", params={"tag": " vip "}, headers=viewer)
    blank = await client.get("/v1/conversations", params={"tag": "  "}, headers=viewer)
    theirs = await client.get(
        "/v1/conversations", params={"tag": " vip "}, headers=other_tenant.headers
    )

    assert [c["id"] for c in padded.json()["items"]] == [item["id"]]
    assert blank.status_code == 422 and "tag" in blank.text
    assert theirs.status_code == 200 and theirs.json()["items"] == []
