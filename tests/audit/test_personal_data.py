"""Personal data never enters the audit log: a scenario writes known personal values through
every audited table (the inline and the stored import path included), then the whole log of
the tenant is scanned for them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text

from herald.campaign.models import CampaignStep
from herald.channel.models import Channel
from herald.imports import service as imports
from herald.inbox.service import receive_inbound
from herald.kit.context import SYSTEM, bind_actor
from herald.kit.database import Database
from herald.kit.models import PERSONAL, Base
from herald.providers.base import Inbound
from tests.audit.test_declared import owned_models
from tests.auth.support import MemoryMailer
from tests.channel.helpers import sms_body
from tests.conftest import TenantFixture
from tests.imports.helpers import csv_bytes, upload
from tests.user.conftest import mailer
from tests.whatsapp.helpers import Draft

__all__ = ["mailer"]

PHONE = "+14155550987"
DNC_PHONE = "+14155550988"
IMPORTED_PHONE = "+14155550989"
STORED_PHONE = "+14155550990"
INBOUND_PHONE = "+14155550991"
EMAIL = "zelda.quixote@example.com"
INVITED = "ines.invited@example.com"
IMPORTED_EMAIL = "ivo.imported@example.com"
NAMES = ("Zelda", "Quixote", "Ivo", "Importman", "Stella", "Storedfile", "Nicknamey")
PERSONAL_VALUES = (
    *(
        p.removeprefix("+1")
        for p in (PHONE, DNC_PHONE, IMPORTED_PHONE, STORED_PHONE, INBOUND_PHONE)
    ),
    EMAIL,
    INVITED,
    IMPORTED_EMAIL,
    *NAMES,
)
"""Phones without their country code, so a national spelling is caught as well."""


async def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def contacts_and_segments(client: httpx.AsyncClient, h: dict[str, str]) -> None:
    contact = await ok(
        await client.post(
            "/v1/contacts",
            json={
                "phone": PHONE,
                "email": EMAIL,
                "first_name": "Zelda",
                "last_name": "Quixote",
                "birth_date": "1980-02-03",
                "tags": ["Nicknamey"],
                "custom_fields": {"nickname": "Nicknamey"},
            },
            headers=h,
        )
    )
    await ok(
        await client.patch(
            f"/v1/contacts/{contact['id']}",
            json={
                "last_name": "Quixote",
                "company": "Zelda Ltd",
                "sms_status": "opted_in",
                "consent_source": "Zelda's web form",
            },
            headers=h,
        )
    )
    rules = {"all": [{"field": "email", "op": "eq", "value": EMAIL}]}
    segment = await ok(
        await client.post("/v1/segments", json={"name": "One", "rules": rules}, headers=h)
    )
    rules = {"any": [{"field": "first_name", "op": "eq", "value": "Zelda"}]}
    await ok(await client.patch(f"/v1/segments/{segment['id']}", json={"rules": rules}, headers=h))
    await ok(await client.post("/v1/dnc", json={"phone": DNC_PHONE, "note": "Zelda"}, headers=h))
    rule = {"name": "Quiet", "window_days": 30}
    await ok(await client.post("/v1/suppression-rules", json=rule, headers=h))
    await ok(await client.delete(f"/v1/contacts/{contact['id']}?erase=true", headers=h))


async def members_and_keys(
    client: httpx.AsyncClient, h: dict[str, str], mail: MemoryMailer
) -> None:
    await ok(
        await client.post("/v1/invitations", json={"email": INVITED, "role": "agent"}, headers=h)
    )
    link = next(w for w in mail.outbox[-1].text.split() if "/v1/invitations/accept" in w)
    token = link.split("token=")[1]
    await ok(
        await client.post(
            "/v1/invitations/accept",
            json={"token": token, "name": "Stella", "password": "a long enough password"},
        )
    )
    members = (await ok(await client.get("/v1/members", headers=h)))["items"]
    user_id = next(m["user_id"] for m in members if m["role"] == "agent")
    await ok(await client.patch(f"/v1/members/{user_id}", json={"role": "viewer"}, headers=h))
    await ok(await client.post("/v1/api-keys", json={"name": "ci", "role": "viewer"}, headers=h))


async def settings_and_content(client: httpx.AsyncClient, h: dict[str, str]) -> str:
    channel = await ok(await client.post("/v1/channels", json=sms_body(), headers=h))
    pool = {"name": "Pool", "kind": "sms", "channel_ids": [channel["id"]]}
    await ok(await client.post("/v1/sender-pools", json=pool, headers=h))
    template = {"name": "Hello", "body": "Hello {{ first_name }}. Reply STOP to opt out"}
    await ok(await client.post("/v1/templates", json=template, headers=h))
    await ok(await client.post("/v1/whatsapp-templates", json=Draft().body(), headers=h))
    await ok(await client.patch("/v1/tenant", json={"name": "Renamed"}, headers=h))
    await ok(await client.put("/v1/secrets/token", json={"value": "s3cret"}, headers=h))
    price = {"provider": "simulator", "kind": "sms", "country": "GB", "unit_price": "0.03"}
    await ok(await client.post("/v1/costs", json=price, headers=h))
    await ok(await client.patch("/v1/wallet", json={"billing_mode": "prepaid"}, headers=h))
    return str(channel["id"])


async def campaigns_budget_and_inbox(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, channel_id: str
) -> None:
    h = tenant.headers
    variants = [{"body": "Hi Zelda A", "share_percent": 50}, {"body": "Hi B", "share_percent": 50}]
    campaign = await ok(
        await client.post(
            "/v1/campaigns",
            json={
                "name": "Spring",
                "channel_id": channel_id,
                "variants": variants,
                "audience": {"phones": [INBOUND_PHONE]},
            },
            headers=h,
        )
    )
    await ok(
        await client.put(
            "/v1/budget", json={"daily_limit": 10**6, "monthly_limit": None}, headers=h
        )
    )
    await ok(
        await client.put("/v1/inbox/keywords", json={"add_to_do_not_contact": True}, headers=h)
    )
    canned = {"name": "Thanks", "body": "Thanks Zelda"}
    await ok(await client.post("/v1/inbox/canned-replies", json=canned, headers=h))
    async with db.tenant_session(tenant.id) as session:
        bind_actor(session, SYSTEM, tenant.id)
        session.add(
            CampaignStep(
                tenant_id=tenant.id,
                campaign_id=UUID(campaign["id"]),
                position=1,
                delay_minutes=60,
                body="Still there, Zelda?",
            )
        )
        channel = await session.get(Channel, UUID(channel_id))
        assert channel is not None
        inbound = Inbound("SMzelda", INBOUND_PHONE, channel.sender, "Hello from Zelda", "ev-zelda")
        await receive_inbound(session, channel, [inbound])
    conversations = (await ok(await client.get("/v1/conversations", headers=h)))["items"]
    thread = f"/v1/conversations/{conversations[0]['id']}"
    await ok(await client.patch(thread, json={"status": "closed"}, headers=h))
    await ok(await client.post(f"{thread}/notes", json={"body": "Zelda called"}, headers=h))


async def imports_both_ways(
    client: httpx.AsyncClient, tenant: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    inline = csv_bytes(
        "phone,email,first_name,last_name", f"{IMPORTED_PHONE},{IMPORTED_EMAIL},Ivo,Importman"
    )
    await ok(await upload(client, tenant, inline))
    monkeypatch.setattr(imports, "INLINE_MAX_BYTES", 0)
    stored = csv_bytes("phone,first_name,last_name", f"{STORED_PHONE},Stella,Storedfile")
    await ok(await upload(client, tenant, stored))


async def audit_log(db: Database, tenant: TenantFixture) -> list[tuple[str, str, str]]:
    async with db.system_session() as session:
        rows = await session.execute(
            text(
                "SELECT resource_type, action, coalesce(resource_id, '') || changes::text "
                "FROM audit_log WHERE tenant_id = :t"
            ),
            {"t": tenant.id},
        )
        return [(r[0], r[1], r[2]) for r in rows]


def audited_tables() -> set[str]:
    return {c.__tablename__ for c in owned_models() if c.__audited__}


async def test_no_personal_value_in_the_audit_log(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    mailer: MemoryMailer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = tenant.headers
    await contacts_and_segments(client, h)
    await members_and_keys(client, h, mailer)
    channel_id = await settings_and_content(client, h)
    await campaigns_budget_and_inbox(client, db, tenant, channel_id)
    await imports_both_ways(client, tenant, monkeypatch)

    entries = await audit_log(db, tenant)
    touched = {resource for resource, _action, _text in entries}
    assert audited_tables() <= touched, audited_tables() - touched
    leaks = [
        (action, value)
        for _resource, action, dumped in entries
        for value in PERSONAL_VALUES
        if value.lower() in dumped.lower()
    ]
    assert leaks == []
    assert any(PERSONAL in dumped for _r, action, dumped in entries if action == "segment.created")
    assert any(
        PERSONAL in dumped for _r, action, dumped in entries if action == "invitation.created"
    )
    assert not any(action.startswith("import_file_part") for _r, action, _t in entries)


def test_the_base_declares_nothing() -> None:
    assert Base.__audited__ is None
