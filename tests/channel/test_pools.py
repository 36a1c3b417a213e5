"""Sender pools over the API, and sticky senders assigned set-based."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

import httpx

from herald.channel import service
from herald.kit.context import Role
from herald.kit.database import Database
from tests.channel.helpers import create, sms_body, whatsapp_body
from tests.conftest import TenantFixture
from tests.segment.helpers import add_contacts


async def _pool(
    client: httpx.AsyncClient, tenant: TenantFixture, channel_ids: list[str], name: str = "Pool"
) -> Any:
    body = {"name": name, "kind": "sms", "channel_ids": channel_ids}
    response = await client.post("/v1/sender-pools", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _assign(
    db: Database, tenant_id: UUID, pool_id: str, contacts: list[UUID]
) -> dict[UUID, UUID]:
    async with db.tenant_session(tenant_id) as session:
        return await service.assign_senders(session, tenant_id, UUID(pool_id), contacts)


async def test_pool_crud(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    a, b = [(await create(client, tenant.headers, sms_body()))["id"] for _ in range(2)]
    pool = await _pool(client, tenant, [a, a])
    url = f"/v1/sender-pools/{pool['id']}"

    assert pool["channel_ids"] == [a]
    changed = await client.patch(url, json={"channel_ids": [a, b]}, headers=tenant.headers)
    assert sorted(changed.json()["channel_ids"]) == sorted([a, b])
    listed = await client.get("/v1/sender-pools", headers=tenant.headers)
    assert [p["name"] for p in listed.json()["items"]] == ["Pool"]
    assert (await client.delete(url, headers=tenant.headers)).status_code == 204
    assert (await client.get(url, headers=tenant.headers)).status_code == 404


async def test_members_must_be_own_channels_of_the_pool_kind(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    whatsapp = (await create(client, tenant.headers, whatsapp_body()))["id"]
    theirs = (await create(client, other_tenant.headers, sms_body()))["id"]

    for members, words in (([whatsapp], "sms channels only"), ([theirs], "No such channels")):
        body = {"name": "Bad", "kind": "sms", "channel_ids": members}
        response = await client.post("/v1/sender-pools", json=body, headers=tenant.headers)
        assert response.status_code == 422
        assert words in response.json()["detail"]


async def test_pool_isolation_and_roles(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    pool = await _pool(client, tenant, [])
    url = f"/v1/sender-pools/{pool['id']}"
    agent = await tenant.key_for(Role.agent)

    for method, body in (("GET", None), ("PATCH", {"name": "X"}), ("DELETE", None)):
        response = await client.request(method, url, json=body, headers=other_tenant.headers)
        assert response.status_code == 404
    assert (await client.get("/v1/sender-pools", headers=other_tenant.headers)).json()[
        "items"
    ] == []
    for method, path, body in (
        ("POST", "/v1/sender-pools", {"name": "Y", "kind": "sms"}),
        ("PATCH", url, {"name": "X"}),
        ("DELETE", url, None),
    ):
        assert (await client.request(method, path, json=body, headers=agent)).status_code == 403
    assert (await client.get(url, headers=agent)).status_code == 200


async def test_contacts_spread_and_stick(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    channels = [(await create(client, tenant.headers, sms_body()))["id"] for _ in range(3)]
    pool = await _pool(client, tenant, channels)
    contacts = await add_contacts(db, tenant.id, *({} for _ in range(60)))

    first = await _assign(db, tenant.id, pool["id"], contacts[:40])
    spread = Counter(first.values())
    assert len(first) == 40
    assert set(map(str, spread)) == set(channels)

    await client.post(f"/v1/channels/{channels[0]}/pause", headers=tenant.headers)
    again = await _assign(db, tenant.id, pool["id"], contacts)
    assert {c: again[c] for c in contacts[:40]} == first
    assert str(channels[0]) not in {str(again[c]) for c in contacts[40:]}


async def test_a_removed_member_releases_its_contacts(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    a, b = [(await create(client, tenant.headers, sms_body()))["id"] for _ in range(2)]
    pool = await _pool(client, tenant, [a, b])
    contacts = await add_contacts(db, tenant.id, *({} for _ in range(20)))
    await _assign(db, tenant.id, pool["id"], contacts)

    await client.patch(
        f"/v1/sender-pools/{pool['id']}", json={"channel_ids": [b]}, headers=tenant.headers
    )
    after = await _assign(db, tenant.id, pool["id"], contacts)

    assert set(map(str, after.values())) == {b}


async def test_no_active_channel_or_foreign_contact_gets_no_sender(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture, db: Database
) -> None:
    channel = (await create(client, tenant.headers, sms_body()))["id"]
    pool = await _pool(client, tenant, [channel])
    mine = await add_contacts(db, tenant.id, {})
    theirs = await add_contacts(db, other_tenant.id, {})

    assert set(await _assign(db, tenant.id, pool["id"], mine + theirs)) == set(mine)
    empty = await _pool(client, tenant, [], name="Empty")
    assert await _assign(db, tenant.id, empty["id"], mine) == {}
