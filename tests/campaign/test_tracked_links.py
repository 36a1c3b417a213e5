"""Tracked short links at launch: with a short-link domain, each message of an SMS campaign
carries a link of its own, made set-based, and a person's click on it is the campaign's click
for that message and contact."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import aiohttp
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from herald.campaign import automation
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.link.models import ShortLink
from herald.link.service import PLACEHOLDER_TOKEN
from herald.message.models import EventType, Message, MessageEvent
from herald.settings import Settings, get_settings
from herald.sms.encoding import inspect
from tests.campaign.helpers import create, many_contacts, noon_zone, run_dispatch
from tests.conftest import TenantFixture
from tests.link.helpers import BROWSER, counting, set_tenant_settings
from tests.message.dispatch_fixtures import make_channel
from tests.sim.server import SimServer

BODY = 'Hi {{ first_name | default("there") }}, our sale is on: {{ link }} Reply STOP to opt out'
TARGET = "https://shop.example/sale"
SHORT = re.compile(r"https://go\.shop\.test/l/([0-9A-Za-z]{21})")


@pytest.fixture
def same_key(monkeypatch: pytest.MonkeyPatch, cli_env: None, settings: Settings) -> Iterator[None]:
    """The launch mints tokens with the process settings' key; the redirect checks them with
    the app's: in a deployment both read the same environment, here it is set to agree."""
    assert settings.secret_key is not None
    monkeypatch.setenv("HERALD_SECRET_KEY", settings.secret_key.get_secret_value())
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _messages(db: Database, campaign_id: str) -> list[Message]:
    async with db.system_session() as session:
        found = await session.scalars(
            select(Message).where(Message.campaign_id == UUID(campaign_id))
        )
        return list(found)


async def _links(db: Database, campaign_id: str) -> dict[UUID, ShortLink]:
    async with db.system_session() as session:
        found = await session.scalars(
            select(ShortLink).where(ShortLink.campaign_id == UUID(campaign_id))
        )
        return {link.message_id: link for link in found if link.message_id is not None}


async def _clicks(db: Database, campaign_id: str) -> list[MessageEvent]:
    async with db.system_session() as session:
        found = await session.scalars(
            select(MessageEvent).where(
                MessageEvent.campaign_id == UUID(campaign_id),
                MessageEvent.type == EventType.clicked,
            )
        )
        return list(found)


@pytest.mark.usefixtures("same_key")
async def test_each_message_carries_its_own_link_and_a_click_counts_for_it(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sim: SimServer,
) -> None:
    await set_tenant_settings(client, tenant, short_link_domain="go.shop.test")
    channel = await make_channel(db, app, tenant.id, sim)
    await many_contacts(db, tenant.id, 40, noon_zone())
    made = await create(client, tenant, channel.id, body=BODY, target_url=TARGET)

    with counting(db) as seen:
        sent = await client.post(f"/v1/campaigns/{made['id']}/send", headers=tenant.headers)

    assert sent.status_code == 202, sent.text
    assert sum("INSERT INTO short_links" in sql for sql in seen.sql) == 1
    assert sum("replace(m.body" in sql for sql in seen.sql) == 1
    messages = await _messages(db, made["id"])
    links = await _links(db, made["id"])
    assert len(messages) == len(links) == 40
    tokens = set()
    for message in messages:
        assert message.body is not None and PLACEHOLDER_TOKEN not in message.body
        [token] = SHORT.findall(message.body)
        link = links[message.id]
        assert (link.token, link.contact_id, link.tenant_id) == (
            token,
            message.contact_id,
            tenant.id,
        )
        assert link.target_url == TARGET
        assert message.segments == inspect(message.body).segments
        tokens.add(token)
    assert len(tokens) == 40

    clicked = messages[0]
    follow = await client.get(f"/l/{links[clicked.id].token}", headers={"user-agent": BROWSER})
    preview = await client.get(
        f"/l/{links[messages[1].id].token}", headers={"user-agent": "Slackbot 1.0"}
    )

    assert follow.status_code == 302 and follow.headers["location"].startswith(TARGET)
    assert preview.status_code == 302
    [event] = await _clicks(db, made["id"])
    assert (event.tenant_id, event.message_id, event.contact_id) == (
        tenant.id,
        clicked.id,
        clicked.contact_id,
    )
    read = await client.get(f"/v1/campaigns/{made['id']}", headers=tenant.headers)
    assert read.json()["stats"]["clicked"] == 1
    viewer = await tenant.key_for(Role.viewer)
    listed = await client.get(f"/v1/links?campaign_id={made['id']}&limit=100", headers=viewer)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 40
    hidden = await client.get(f"/v1/links?campaign_id={made['id']}", headers=other_tenant.headers)
    assert hidden.json()["items"] == []


@pytest.mark.usefixtures("same_key")
async def test_without_a_short_link_domain_the_target_goes_as_it_is(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    other_tenant: TenantFixture,
    sim: SimServer,
) -> None:
    channel = await make_channel(db, app, other_tenant.id, sim)
    await many_contacts(db, other_tenant.id, 3, noon_zone())
    made = await create(client, other_tenant, channel.id, body=BODY, target_url=TARGET)

    sent = await client.post(f"/v1/campaigns/{made['id']}/send", headers=other_tenant.headers)

    assert sent.status_code == 202, sent.text
    messages = await _messages(db, made["id"])
    assert len(messages) == 3 and all(f"on: {TARGET} Reply" in (m.body or "") for m in messages)
    assert await _links(db, made["id"]) == {}


@pytest.mark.usefixtures("same_key")
async def test_clicks_on_the_links_pick_the_ab_winner(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    await set_tenant_settings(client, tenant, short_link_domain="go.shop.test")
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=1000)
    await many_contacts(db, tenant.id, 200, noon_zone())
    variants = [
        {"body": "A: {{ link }} Reply STOP to opt out", "share_percent": 50},
        {"body": "B: {{ link }} Reply STOP to opt out", "share_percent": 50},
    ]
    ab = {"test_share": 50, "metric": "clicks", "decide_after_minutes": 10}
    made = await create(
        client, tenant, channel.id, body=None, variants=variants, ab=ab, target_url=TARGET
    )
    a, b = (UUID(v["id"]) for v in made["variants"])
    sent = await client.post(f"/v1/campaigns/{made['id']}/send", headers=tenant.headers)
    assert sent.status_code == 202, sent.text
    await run_dispatch(db, http, made["id"])
    tested = await _messages(db, made["id"])
    links = await _links(db, made["id"])
    assert len(links) == len(tested) < 200 and {m.variant_id for m in tested} == {a, b}

    for message in tested:
        if message.variant_id == a:
            token = links[message.id].token
            answer = await client.get(f"/l/{token}", headers={"user-agent": BROWSER})
            assert answer.status_code == 302

    assert await automation.decide_winners(db, utcnow() + timedelta(minutes=11)) == 1

    everyone = await _messages(db, made["id"])
    rest = [m for m in everyone if m.id not in {t.id for t in tested}]
    assert len(everyone) == 200 and {m.variant_id for m in rest} == {a}
    assert len(await _links(db, made["id"])) == 200
    assert all(SHORT.search(m.body or "") for m in rest)
