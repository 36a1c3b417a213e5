"""The inbox API: every route with the other tenant (404) and the role just below its
minimum (403), and what each does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import update

from herald.channel.models import Channel
from herald.inbox.models import Conversation
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.user.models import User
from herald.user.service import add_member
from tests.conftest import TenantFixture
from tests.inbox.helpers import (
    phone,
    receive,
    sms_channel,
    sms_inbound,
    text,
    whatsapp_channel,
    whatsapp_inbound,
)
from tests.message.helpers import make_template
from tests.sim.server import SimServer, sim, sim_server

__all__ = ["sim", "sim_server"]


async def conversation_with(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, channel: Channel, body: str
) -> dict[str, Any]:
    """The conversation an inbound ``body`` from a new number opens."""
    await receive(db, channel, [sms_inbound(channel, phone(), body)])
    found = await client.get(
        "/v1/conversations", params={"channel_id": str(channel.id)}, headers=tenant.headers
    )
    assert found.status_code == 200, found.text
    [item] = [c for c in found.json()["items"] if c["last_preview"] == body]
    return item


@pytest.fixture
async def sms(db: Database, tenant: TenantFixture, sim: SimServer) -> Channel:
    return await sms_channel(db, tenant.id, sim)


class TestReading:
    async def test_list_get_and_thread(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sms: Channel,
    ) -> None:
        item = await conversation_with(client, db, tenant, sms, "Where is my parcel?")
        assert item["unread_count"] == 1 and item["status"] == "open"
        viewer = await tenant.key_for(Role.viewer)
        path = f"/v1/conversations/{item['id']}"

        got = await client.get(path, headers=viewer)
        assert got.status_code == 200 and got.json()["id"] == item["id"]
        thread = await client.get(f"{path}/messages", headers=viewer)
        assert thread.status_code == 200
        [message] = thread.json()["items"]
        assert message["direction"] == "inbound" and message["body"] == "Where is my parcel?"
        assert message["media"] == [] and message["location"] is None

        for url in (path, f"{path}/messages", f"{path}/notes"):
            assert (await client.get(url, headers=other_tenant.headers)).status_code == 404
        others = await client.get("/v1/conversations", headers=other_tenant.headers)
        assert item["id"] not in [c["id"] for c in others.json()["items"]]

    async def test_newest_activity_first_with_keyset_pages_and_filters(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: Channel
    ) -> None:
        first = await conversation_with(client, db, tenant, sms, "first")
        second = await conversation_with(client, db, tenant, sms, "second")
        params: dict[str, Any] = {"channel_id": str(sms.id), "limit": 1}
        page = await client.get("/v1/conversations", params=params, headers=tenant.headers)
        assert [c["id"] for c in page.json()["items"]] == [second["id"]]
        params["cursor"] = page.json()["next_cursor"]
        page = await client.get("/v1/conversations", params=params, headers=tenant.headers)
        assert [c["id"] for c in page.json()["items"]] == [first["id"]]

        await client.post(f"/v1/conversations/{first['id']}/read", headers=tenant.headers)
        await client.patch(
            f"/v1/conversations/{second['id']}",
            json={
                "tags": ["vip", "vip", "late"],
                "status": "closed",
                "assigned_to": str(tenant.owner_id),
            },
            headers=tenant.headers,
        )

        async def ids(**filters: Any) -> list[str]:
            query = {"channel_id": str(sms.id), **filters}
            found = await client.get("/v1/conversations", params=query, headers=tenant.headers)
            assert found.status_code == 200, found.text
            return [c["id"] for c in found.json()["items"]]

        assert await ids(unread="true") == [second["id"]]
        assert await ids(unread="false") == [first["id"]]
        assert await ids(status="closed") == [second["id"]]
        assert await ids(status="open") == [first["id"]]
        assert await ids(tag="vip") == [second["id"]]
        assert await ids(assigned_to=str(tenant.owner_id)) == [second["id"]]
        assert await ids(unassigned="true") == [first["id"]]
        bad = await client.get(
            "/v1/conversations", params={"status": "later"}, headers=tenant.headers
        )
        assert bad.status_code == 422


class TestChanging:
    async def test_mark_read(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sms: Channel,
    ) -> None:
        item = await conversation_with(client, db, tenant, sms, "hello?")
        path = f"/v1/conversations/{item['id']}/read"
        assert (
            await client.post(path, headers=await tenant.key_for(Role.viewer))
        ).status_code == 403
        assert (await client.post(path, headers=other_tenant.headers)).status_code == 404
        done = await client.post(path, headers=await tenant.key_for(Role.agent))
        assert done.status_code == 200 and done.json()["unread_count"] == 0

    async def test_assign_snooze_close_and_tag(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sms: Channel,
    ) -> None:
        item = await conversation_with(client, db, tenant, sms, "can you help")
        path = f"/v1/conversations/{item['id']}"
        agent = await tenant.key_for(Role.agent)
        change = {"assigned_to": str(tenant.owner_id)}
        viewer = await tenant.key_for(Role.viewer)
        assert (await client.patch(path, json=change, headers=viewer)).status_code == 403
        assert (
            await client.patch(path, json=change, headers=other_tenant.headers)
        ).status_code == 404

        assigned = await client.patch(path, json=change, headers=agent)
        assert assigned.status_code == 200 and assigned.json()["assigned_to"] == str(
            tenant.owner_id
        )
        stranger = await client.patch(path, json={"assigned_to": str(uuid4())}, headers=agent)
        assert stranger.status_code == 422 and "member" in stranger.json()["detail"]
        other_owner = {"assigned_to": str(other_tenant.owner_id)}
        assert (await client.patch(path, json=other_owner, headers=agent)).status_code == 422
        async with db.system_session() as session:
            reader = User(email=f"reader-{uuid4().hex[:8]}@example.com")
            session.add(reader)
            await session.flush()
            await add_member(session, tenant.id, reader.id, Role.viewer)
        to_reader = await client.patch(path, json={"assigned_to": str(reader.id)}, headers=agent)
        assert to_reader.status_code == 422 and "viewer" in to_reader.json()["detail"]

        until = (utcnow() + timedelta(hours=2)).isoformat()
        snoozed = await client.patch(
            path, json={"status": "snoozed", "snoozed_until": until}, headers=agent
        )
        assert snoozed.json()["status"] == "snoozed"
        no_time = await client.patch(path, json={"status": "snoozed"}, headers=agent)
        assert no_time.status_code == 422
        async with db.tenant_session(tenant.id) as session:
            await session.execute(
                update(Conversation)
                .where(Conversation.id == UUID(item["id"]))
                .values(snoozed_until=utcnow() - timedelta(minutes=1))
            )
        assert (await client.get(path, headers=agent)).json()["status"] == "open"  # woke up

        closed = await client.patch(
            path, json={"status": "closed", "tags": [" a ", "b"]}, headers=agent
        )
        assert closed.json()["status"] == "closed" and closed.json()["tags"] == ["a", "b"]
        assert closed.json()["snoozed_until"] is None
        unassigned = await client.patch(path, json={"assigned_to": None}, headers=agent)
        assert unassigned.json()["assigned_to"] is None
        unknown = await client.patch(path, json={"colour": "red"}, headers=agent)
        assert unknown.status_code == 422

        await receive(db, sms, [sms_inbound(sms, (await _phone_of(client, tenant, item)), "again")])
        assert (await client.get(path, headers=agent)).json()["status"] == "open"  # reopened

    async def test_notes_are_internal(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sms: Channel,
        sim: SimServer,
    ) -> None:
        item = await conversation_with(client, db, tenant, sms, "note this")
        path = f"/v1/conversations/{item['id']}/notes"
        note = {"body": "Called them back; refund on its way."}
        viewer = await tenant.key_for(Role.viewer)
        assert (await client.post(path, json=note, headers=viewer)).status_code == 403
        assert (await client.post(path, json=note, headers=other_tenant.headers)).status_code == 404
        added = await client.post(path, json=note, headers=await tenant.key_for(Role.agent))
        assert added.status_code == 201 and added.json()["author"].startswith("api_key:")
        listed = await client.get(path, headers=viewer)
        assert [n["body"] for n in listed.json()["items"]] == [note["body"]]
        thread = await client.get(f"/v1/conversations/{item['id']}/messages", headers=viewer)
        assert len(thread.json()["items"]) == 1  # a note is not a message
        assert list(sim.sim.state.find(to=None, sender=sms.sender, provider=None)) == []


async def _phone_of(client: httpx.AsyncClient, tenant: TenantFixture, item: dict[str, Any]) -> str:
    found = await client.get(f"/v1/contacts/{item['contact_id']}", headers=tenant.headers)
    number: str = found.json()["phone_e164"]
    return number


class TestReplies:
    async def test_sms_reply_is_queued_and_becomes_the_last_message(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sms: Channel,
    ) -> None:
        item = await conversation_with(client, db, tenant, sms, "is it in stock?")
        path = f"/v1/conversations/{item['id']}/replies"
        answer = {"body": "Yes, since this morning."}
        viewer = await tenant.key_for(Role.viewer)
        assert (await client.post(path, json=answer, headers=viewer)).status_code == 403
        assert (
            await client.post(path, json=answer, headers=other_tenant.headers)
        ).status_code == 404
        sent = await client.post(path, json=answer, headers=await tenant.key_for(Role.agent))
        assert sent.status_code == 202, sent.text
        assert sent.json()["status"] == "queued" and sent.json()["contact_id"] == item["contact_id"]
        after = (await client.get(f"/v1/conversations/{item['id']}", headers=viewer)).json()
        assert after["last_direction"] == "outbound" and after["unread_count"] == 0
        assert after["last_preview"] == "Yes, since this morning."
        template = {"template": {"name": "order_ready", "language": "en_US"}}
        refused = await client.post(path, json=template, headers=tenant.headers)
        assert refused.status_code == 422 and refused.json()["rule"] == "sms_free_text"
        both = await client.post(path, json={**answer, **template}, headers=tenant.headers)
        assert both.status_code == 422

    async def test_whatsapp_free_text_only_inside_the_window(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        sim: SimServer,
    ) -> None:
        channel = await whatsapp_channel(db, tenant.id, sim)
        await receive(db, channel, whatsapp_inbound(phone(), [text("hi there")]))
        listed = await client.get(
            "/v1/conversations", params={"channel_id": str(channel.id)}, headers=tenant.headers
        )
        [item] = listed.json()["items"]
        path = f"/v1/conversations/{item['id']}/replies"
        async with db.tenant_session(tenant.id) as session:  # the message came in a day ago
            await session.execute(
                update(Conversation)
                .where(Conversation.id == UUID(item["id"]))
                .values(window_expires_at=utcnow() + timedelta(minutes=5))
            )

        inside = await client.post(path, json={"body": "Happy to help!"}, headers=tenant.headers)
        assert inside.status_code == 202, inside.text

        async with db.tenant_session(tenant.id) as session:
            await session.execute(
                update(Conversation)
                .where(Conversation.id == UUID(item["id"]))
                .values(window_expires_at=utcnow() - timedelta(minutes=5))
            )
        outside = await client.post(path, json={"body": "Still there?"}, headers=tenant.headers)
        assert outside.status_code == 422
        problem = outside.json()
        assert problem["rule"] == "whatsapp_window" and "template" in problem["detail"]
        assert problem["window_expires_at"] is not None

        await make_template(db, tenant.id, channel.id)
        template = {"name": "order_ready", "language": "en_US", "parameters": ["Ada", "A-1"]}
        by_template = await client.post(path, json={"template": template}, headers=tenant.headers)
        assert by_template.status_code == 202, by_template.text

    async def test_no_reply_to_a_contact_who_opted_out(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: Channel
    ) -> None:
        item = await conversation_with(client, db, tenant, sms, "STOP")
        path = f"/v1/conversations/{item['id']}/replies"
        refused = await client.post(path, json={"body": "But wait!"}, headers=tenant.headers)
        assert refused.status_code == 422 and refused.json()["rule"] == "opted_out"

    async def test_a_canned_reply_is_sent_as_its_text(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: Channel
    ) -> None:
        item = await conversation_with(client, db, tenant, sms, "opening hours?")
        canned = await client.post(
            "/v1/inbox/canned-replies",
            json={"name": f"hours {uuid4().hex[:6]}", "body": "We open 9-17, Mon-Sat."},
            headers=tenant.headers,
        )
        path = f"/v1/conversations/{item['id']}/replies"
        sent = await client.post(
            path, json={"canned_reply_id": canned.json()["id"]}, headers=tenant.headers
        )
        assert sent.status_code == 202 and sent.json()["body"] == "We open 9-17, Mon-Sat."
        missing = await client.post(
            path, json={"canned_reply_id": str(uuid4())}, headers=tenant.headers
        )
        assert missing.status_code == 404


class TestCannedReplies:
    async def test_crud_roles_and_tenants(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        base = "/v1/inbox/canned-replies"
        data = {"name": "thanks", "body": "Thank you for your order!", "language": "en"}
        viewer = await tenant.key_for(Role.viewer)
        agent = await tenant.key_for(Role.agent)
        assert (await client.post(base, json=data, headers=viewer)).status_code == 403
        created = await client.post(base, json=data, headers=agent)
        assert created.status_code == 201, created.text
        path = f"{base}/{created.json()['id']}"
        assert (await client.post(base, json=data, headers=agent)).status_code == 409
        assert (await client.get(path, headers=viewer)).json()["body"] == data["body"]
        assert (await client.get(path, headers=other_tenant.headers)).status_code == 404
        listed = await client.get(base, headers=other_tenant.headers)
        assert listed.json()["items"] == []

        change = {"body": "Thanks a lot!"}
        assert (await client.patch(path, json=change, headers=viewer)).status_code == 403
        assert (
            await client.patch(path, json=change, headers=other_tenant.headers)
        ).status_code == 404
        changed = await client.patch(path, json=change, headers=agent)
        assert changed.json()["body"] == "Thanks a lot!" and changed.json()["name"] == "thanks"

        assert (await client.delete(path, headers=viewer)).status_code == 403
        assert (await client.delete(path, headers=other_tenant.headers)).status_code == 404
        assert (await client.delete(path, headers=agent)).status_code == 204
        assert (await client.get(path, headers=agent)).status_code == 404


class TestKeywords:
    async def test_read_and_replace(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        path = "/v1/inbox/keywords"
        defaults = await client.get(path, headers=await tenant.key_for(Role.viewer))
        assert defaults.status_code == 200
        assert defaults.json()["add_to_do_not_contact"] is False
        assert "stop" in defaults.json()["built_in"]["stop"]
        config = {
            "add_to_do_not_contact": True,
            "languages": {"es": {"stop": ["baja"], "stop_reply": "{business}: baja confirmada"}},
        }
        manager = await tenant.key_for(Role.manager)
        assert (await client.put(path, json=config, headers=manager)).status_code == 403
        saved = await client.put(path, json=config, headers=await tenant.key_for(Role.admin))
        assert saved.status_code == 200, saved.text
        assert saved.json()["languages"]["es"]["stop"] == ["baja"]
        again = await client.get(path, headers=tenant.headers)
        assert again.json()["add_to_do_not_contact"] is True
        theirs = await client.get(path, headers=other_tenant.headers)
        assert theirs.json()["languages"] == {}

        bad = await client.put(path, json={"languages": {"Spanish": {}}}, headers=tenant.headers)
        assert bad.status_code == 422
        unknown = await client.put(path, json={"words": ["x"]}, headers=tenant.headers)
        assert unknown.status_code == 422
