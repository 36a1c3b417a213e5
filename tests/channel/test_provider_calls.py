"""Calls to providers over real HTTP, against the simulator served on a free port: the
credential test, WhatsApp template submission and sync, and the periodic sync task."""

from __future__ import annotations

from typing import Any

import httpx

from herald.channel.tasks import sync_whatsapp_templates
from herald.kit.database import Database
from herald.sim.wire.native import ACCOUNT
from tests.channel.helpers import CLOSED_PORT, WABA_ID, create, sms_body, whatsapp_body
from tests.conftest import TenantFixture, job_context
from tests.sim.server import SimServer
from tests.whatsapp.helpers import Draft


async def test_credential_test_against_the_simulator(
    client: httpx.AsyncClient, tenant: TenantFixture, sim: SimServer
) -> None:
    body = sms_body(config={"api_base_url": sim.url, "api_key": "right-key"})
    channel = await create(client, tenant.headers, body)
    url = f"/v1/channels/{channel['id']}/test"

    good = await client.post(url, headers=tenant.headers)
    sim.sim.state.credentials[ACCOUNT] = "another-key"
    bad = await client.post(url, headers=tenant.headers)

    assert good.json() == {"ok": True, "detail": "the simulator accepted this API key"}
    assert bad.status_code == 200
    assert bad.json() == {"ok": False, "detail": "the simulator answered HTTP 401"}


async def test_credential_test_of_an_unreachable_provider(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    body = sms_body(config={"api_base_url": CLOSED_PORT})
    channel = await create(client, tenant.headers, body)

    response = await client.post(f"/v1/channels/{channel['id']}/test", headers=tenant.headers)

    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert "could not be reached" in response.json()["detail"]


async def _whatsapp(client: httpx.AsyncClient, tenant: TenantFixture, sim: SimServer) -> Any:
    return await create(client, tenant.headers, whatsapp_body(base_url=sim.url + "/whatsapp"))


async def _draft(client: httpx.AsyncClient, tenant: TenantFixture, name: str) -> Any:
    body = Draft(name=name).body()
    response = await client.post("/v1/whatsapp-templates", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_submit_then_sync_an_approval(
    client: httpx.AsyncClient, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await _whatsapp(client, tenant, sim)
    draft = await _draft(client, tenant, "order_ready")
    url = f"/v1/channels/{channel['id']}"

    submitted = await client.post(
        f"{url}/submit-template", json={"template_id": draft["id"]}, headers=tenant.headers
    )

    assert submitted.status_code == 200, submitted.text
    template = submitted.json()
    assert (template["status"], template["channel_id"]) == ("PENDING", channel["id"])
    meta_id = template["meta_template_id"]
    assert sim.sim.state.templates[WABA_ID][meta_id]["name"] == "order_ready"
    again = await client.post(
        f"{url}/submit-template", json={"template_id": draft["id"]}, headers=tenant.headers
    )
    assert again.status_code == 409

    async with httpx.AsyncClient() as control:
        decided = await control.post(
            f"{sim.url}/control/whatsapp/{WABA_ID}/templates/{meta_id}",
            json={"status": "APPROVED"},
        )
        assert decided.status_code == 200
    synced = await client.post(f"{url}/sync-templates", headers=tenant.headers)

    assert synced.json() == {"fetched": 1, "created": 0, "updated": 1}
    read = (
        await client.get(f"/v1/whatsapp-templates/{draft['id']}", headers=tenant.headers)
    ).json()
    assert read["status"] == "APPROVED"
    assert [entry["source"] for entry in read["status_history"]][-2:] == ["api", "sync"]


async def test_a_synced_twin_blocks_submission_before_meta_is_called(
    client: httpx.AsyncClient, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await _whatsapp(client, tenant, sim)
    sim.sim.state.templates[WABA_ID] = {
        "7": {**Draft().body(), "id": "7", "status": "APPROVED", "rejected_reason": "NONE"}
    }
    await client.post(f"/v1/channels/{channel['id']}/sync-templates", headers=tenant.headers)
    draft = await _draft(client, tenant, Draft().name)

    response = await client.post(
        f"/v1/channels/{channel['id']}/submit-template",
        json={"template_id": draft["id"]},
        headers=tenant.headers,
    )

    assert response.status_code == 409
    assert "already has a template" in response.json()["detail"]
    assert list(sim.sim.state.templates[WABA_ID]) == ["7"]


async def test_sync_pages_through_meta_and_upserts(
    client: httpx.AsyncClient, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await _whatsapp(client, tenant, sim)
    sent = dict(Draft(name="x").body(), components=[{"type": "BODY", "text": "Hello"}])
    templates = sim.sim.state.templates.setdefault(WABA_ID, {})
    for i in range(130):
        templates[str(2_000_000 + i)] = {
            **sent,
            "id": str(2_000_000 + i),
            "name": f"promo_{i:03d}",
            "status": "REJECTED" if i == 7 else "APPROVED",
            "quality_score": {"score": "GREEN"},
            "rejected_reason": "INVALID_FORMAT" if i == 7 else "NONE",
        }
    url = f"/v1/channels/{channel['id']}/sync-templates"

    first = await client.post(url, headers=tenant.headers)
    second = await client.post(url, headers=tenant.headers)

    assert first.json() == {"fetched": 130, "created": 130, "updated": 0}
    assert second.json() == {"fetched": 130, "created": 0, "updated": 130}
    listed = await client.get(
        f"/v1/whatsapp-templates?channel_id={channel['id']}&status=REJECTED",
        headers=tenant.headers,
    )
    [rejected] = listed.json()["items"]
    assert (rejected["name"], rejected["rejection_reason"]) == ("promo_007", "INVALID_FORMAT")
    assert rejected["quality_rating"] == "GREEN"


async def test_meta_refusal_is_a_bad_gateway(
    client: httpx.AsyncClient, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await _whatsapp(client, tenant, sim)
    sim.sim.state.credentials[WABA_ID] = "the-real-token"

    response = await client.post(
        f"/v1/channels/{channel['id']}/sync-templates", headers=tenant.headers
    )

    assert response.status_code == 502
    assert "Meta refused (HTTP 401" in response.json()["detail"]


async def test_templates_need_a_whatsapp_cloud_channel(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    channel = await create(client, tenant.headers, sms_body())

    response = await client.post(
        f"/v1/channels/{channel['id']}/sync-templates", headers=tenant.headers
    )

    assert response.status_code == 422
    assert "whatsapp_cloud channel" in response.json()["detail"]


async def test_periodic_sync_covers_active_whatsapp_channels(
    client: httpx.AsyncClient, tenant: TenantFixture, sim: SimServer, db: Database
) -> None:
    channel = await _whatsapp(client, tenant, sim)
    sim.sim.state.templates[WABA_ID] = {
        "42": {
            **Draft(name="welcome").body(),
            "id": "42",
            "status": "APPROVED",
            "quality_score": {"score": "UNKNOWN"},
            "rejected_reason": "NONE",
        }
    }

    counts = await sync_whatsapp_templates(
        job_context(db, "channel:sync_whatsapp_templates"), timestamp=0
    )

    assert counts["templates"] >= 1
    listed = await client.get(
        f"/v1/whatsapp-templates?channel_id={channel['id']}", headers=tenant.headers
    )
    assert [t["status"] for t in listed.json()["items"]] == ["APPROVED"]
