"""The campaigns API: the contract, the status machine, and who may call what."""

from __future__ import annotations

import csv
import io

import aiohttp
import httpx
import pytest
from fastapi import FastAPI

from herald.kit.context import Role
from herald.kit.database import Database
from tests.campaign.helpers import (
    act,
    contact,
    create,
    gb_phone,
    noon_zone,
    run_dispatch,
    status_counts,
)
from tests.conftest import TenantFixture
from tests.message.dispatch_fixtures import make_channel
from tests.sim.server import SimServer


async def test_the_contract_create_send_and_see_it_complete(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    """The exact calls other checks make: opted-in contacts, a body to everyone, send, poll."""
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    for _ in range(3):
        answer = await client.post(
            "/v1/contacts",
            json={"phone": gb_phone(), "sms_status": "opted_in", "timezone": noon_zone()},
            headers=tenant.headers,
        )
        assert answer.status_code == 201, answer.text
    answer = await client.post(
        "/v1/campaigns",
        json={
            "name": "Launch",
            "channel_id": str(channel.id),
            "body": "New arrivals are in. Reply STOP to opt out",
            "audience": {"all": True},
        },
        headers=tenant.headers,
    )
    assert answer.status_code == 201, answer.text
    campaign_id = answer.json()["id"]

    sent = await client.post(f"/v1/campaigns/{campaign_id}/send", headers=tenant.headers)
    assert sent.status_code == 202, sent.text
    assert sent.json()["messages"] == 3
    await run_dispatch(db, http, campaign_id)

    read = (await client.get(f"/v1/campaigns/{campaign_id}", headers=tenant.headers)).json()
    assert read["status"] == "completed"
    assert read["stats"]["sent"] == 3
    assert read["stats"]["delivered"] + read["stats"]["failed"] == 0
    assert read["stats"]["cost"] > 0


async def test_a_draft_is_created_read_listed_changed_and_deleted(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    made = await create(client, tenant, channel.id)
    assert made["status"] == "draft"
    assert made["kind"] == "sms"
    assert [v["label"] for v in made["variants"]] == ["A"]

    listed = await client.get("/v1/campaigns?status=draft", headers=tenant.headers)
    assert made["id"] in [c["id"] for c in listed.json()["items"]]
    changed = await client.patch(
        f"/v1/campaigns/{made['id']}",
        json={"name": "Renamed", "exclusions": {"tags": ["vip"]}},
        headers=tenant.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Renamed"
    assert changed.json()["exclusions"]["tags"] == ["vip"]

    gone = await client.delete(f"/v1/campaigns/{made['id']}", headers=tenant.headers)
    assert gone.status_code == 204
    missing = await client.get(f"/v1/campaigns/{made['id']}", headers=tenant.headers)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            {"variants": [{"body": "A", "share_percent": 60}, {"body": "B", "share_percent": 30}]},
            "add up to 100",
        ),
        ({"audience": {"all": True, "tags": ["x"]}}, "exactly one"),
        ({"body": "Hi {{ first_name "}, "template"),
        ({"target_url": "javascript:alert(1)"}, "target_url"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_bad_drafts_are_refused_saying_what_to_fix(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    sim: SimServer,
    body: dict[str, object],
    fragment: str,
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    if "variants" in body:
        body = {**body, "body": None}
    answer = await create(client, tenant, channel.id, expect=422, **body)
    assert fragment in str(answer).lower() or fragment in str(answer)


async def test_the_status_machine_answers_409_for_illegal_moves(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    await contact(db, tenant.id, timezone=noon_zone())
    made = await create(client, tenant, channel.id)
    refused = await act(client, tenant, made["id"], "resume", expect=409)
    assert "draft" in refused["detail"]
    await act(client, tenant, made["id"], "send", expect=202)
    await act(client, tenant, made["id"], "send", expect=409)
    paused = await act(client, tenant, made["id"], "pause")
    assert paused["status"] == "paused"
    resumed = await act(client, tenant, made["id"], "resume")
    assert resumed["status"] == "running"
    cancelled = await act(client, tenant, made["id"], "cancel")
    assert cancelled["status"] == "cancelled"
    await act(client, tenant, made["id"], "cancel", expect=409)
    deleted = await client.delete(f"/v1/campaigns/{made['id']}", headers=tenant.headers)
    assert deleted.status_code == 409
    assert await status_counts(db, made["id"]) == {"failed": 1}

    copy = await act(client, tenant, made["id"], "duplicate", expect=201)
    assert copy["status"] == "draft" and copy["name"] == "Spring sale (copy)"
    assert copy["id"] != made["id"]


async def test_send_refuses_with_the_reason(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    made = await create(client, tenant, channel.id)
    nobody = await act(client, tenant, made["id"], "send", expect=422)
    assert nobody["reason"] == "no_recipients"
    assert (await client.get(f"/v1/campaigns/{made['id']}", headers=tenant.headers)).json()[
        "status"
    ] == "draft"

    await contact(db, tenant.id)
    paused = await client.patch("/v1/tenant", json={"is_paused": True}, headers=tenant.headers)
    assert paused.status_code == 200, paused.text
    refused = await act(client, tenant, made["id"], "send", expect=409)
    assert refused["reason"] == "tenant_paused"


async def test_schedule_sets_the_next_run(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await make_channel(db, app, tenant.id, sim)
    made = await create(client, tenant, channel.id)
    at = await act(
        client,
        tenant,
        made["id"],
        "schedule",
        schedule={"type": "at", "at": "2031-05-01T10:00:00Z"},
    )
    assert at["status"] == "scheduled"
    assert at["next_run_at"].startswith("2031-05-01T10:00:00")
    local = await act(
        client,
        tenant,
        made["id"],
        "schedule",
        schedule={"type": "local", "date": "2031-05-02", "local_time": "10:00"},
    )
    assert local["next_run_at"].startswith("2031-05-01T20:00:00")
    bad = await act(client, tenant, made["id"], "schedule", expect=422, schedule={"type": "at"})
    assert "at" in str(bad)


async def test_report_and_export_follow_the_messages(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    sim: SimServer,
    http: aiohttp.ClientSession,
) -> None:
    channel = await make_channel(db, app, tenant.id, sim, rate_per_second=100)
    phones = [gb_phone() for _ in range(4)]
    for phone in phones:
        await contact(db, tenant.id, phone, timezone=noon_zone())
    made = await create(
        client,
        tenant,
        channel.id,
        body=None,
        variants=[
            {"body": "Offer A. Reply STOP to opt out", "share_percent": 50},
            {"body": "Offer B. Reply STOP to opt out", "share_percent": 50},
        ],
    )
    await act(client, tenant, made["id"], "send", expect=202)
    await run_dispatch(db, http, made["id"])

    report = (await client.get(f"/v1/campaigns/{made['id']}/report", headers=tenant.headers)).json()
    assert report["messages"] == 4 and report["sent"] == 4
    assert sum(v["messages"] for v in report["variants"]) == 4
    assert {v["label"] for v in report["variants"]} <= {"A", "B"}

    export = await client.get(f"/v1/campaigns/{made['id']}/messages.csv", headers=tenant.headers)
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert sorted(r["phone"] for r in rows) == sorted(phones)
    assert {r["status"] for r in rows} == {"sent"}


async def test_preflight_counts_exclusions_by_reason(
    client: httpx.AsyncClient, db: Database, app: FastAPI, tenant: TenantFixture, sim: SimServer
) -> None:
    from herald.contact.models import ConsentStatus

    channel = await make_channel(db, app, tenant.id, sim)
    await contact(db, tenant.id, timezone=noon_zone())
    await contact(db, tenant.id, sms_status=ConsentStatus.opted_out)
    await contact(db, tenant.id, sms_status=ConsentStatus.unknown)
    await contact(db, tenant.id, blocked=True)
    await contact(db, tenant.id, tags=["staff"])
    dnc = gb_phone()
    await contact(db, tenant.id, dnc)
    assert (
        await client.post("/v1/dnc", json={"phone": dnc}, headers=tenant.headers)
    ).status_code == 201
    made = await create(
        client, tenant, channel.id, body="Hi! 🎉 sale", exclusions={"tags": ["staff"]}
    )

    answer = await client.get(f"/v1/campaigns/{made['id']}/preflight", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["recipients"] == 1
    excluded = found["excluded"]
    assert excluded["opted_out"] == 1
    assert excluded["no_consent"] == 1
    assert excluded["blocked"] == 1
    assert excluded["do_not_contact"] == 1
    assert excluded["excluded"] == 1
    assert found["encoding"] == "UCS-2"
    assert found["cost"] > 0 and found["first_send_at"] is not None
    assert any("UCS-2" in w for w in found["warnings"])


MANAGER_CALLS = [
    ("post", "/send"),
    ("post", "/pause"),
    ("post", "/resume"),
    ("post", "/cancel"),
    ("post", "/duplicate"),
    ("post", "/schedule"),
    ("patch", ""),
    ("delete", ""),
    ("get", "/messages.csv"),
]
VIEWER_CALLS = [("get", ""), ("get", "/preflight"), ("get", "/report")]


async def test_roles_and_tenants(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sim: SimServer,
) -> None:
    """Every route: the role just below its minimum gets 403; another tenant gets 404."""
    channel = await make_channel(db, app, tenant.id, sim)
    made = await create(client, tenant, channel.id)
    agent = await tenant.key_for(Role.agent)
    bodies = {"/schedule": {"schedule": {"type": "now"}}, "": {"name": "x"}}

    await create(client, tenant, channel.id, expect=403, headers=agent)
    other_channel = await make_channel(db, app, other_tenant.id, sim)
    await create(client, other_tenant, channel.id, expect=404)
    assert other_channel.id != channel.id
    for method, path in MANAGER_CALLS:
        url = f"/v1/campaigns/{made['id']}{path}"
        kwargs = {"json": bodies[path]} if path in bodies and method != "delete" else {}
        lesser = await client.request(method.upper(), url, headers=agent, **kwargs)
        assert lesser.status_code == 403, (method, path, lesser.text)
        other = await client.request(method.upper(), url, headers=other_tenant.headers, **kwargs)
        assert other.status_code == 404, (method, path, other.text)
    for method, path in VIEWER_CALLS:
        url = f"/v1/campaigns/{made['id']}{path}"
        other = await client.request(method.upper(), url, headers=other_tenant.headers)
        assert other.status_code == 404, (path, other.text)
    listed = await client.get("/v1/campaigns", headers=other_tenant.headers)
    assert made["id"] not in [c["id"] for c in listed.json()["items"]]
    anonymous = await client.get("/v1/campaigns")
    assert anonymous.status_code == 401
