from __future__ import annotations

import httpx
import pytest

from herald.channel.service import get_channel
from herald.kit.context import Role
from herald.kit.database import Database
from tests.channel.helpers import (
    PHONE_NUMBER_ID,
    TWILIO_SID,
    WABA_ID,
    audited_changes,
    create,
    raw_config,
    sms_body,
    whatsapp_body,
)
from tests.conftest import TenantFixture


async def test_contract_simulator_channel_with_an_empty_config(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    channel = await create(client, tenant.headers, sms_body(name="Main"))

    assert channel["id"]
    assert channel["status"] == "active"
    assert channel["config"]["api_base_url"] == "http://127.0.0.1:8000/sim"
    assert channel["config"]["api_key"] == {"set": True}
    assert channel["config"]["signing_secret"] == {"set": True}
    assert channel["daily_cap"] is None


async def test_twilio_secrets_are_never_returned_and_encrypted_at_rest(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    token = "twilio-auth-token-value"
    body = sms_body(
        provider="twilio",
        config={"account_sid": TWILIO_SID, "auth_token": token, "api_base_url": "http://t.test/"},
    )
    channel = await create(client, tenant.headers, body)

    assert channel["config"]["auth_token"] == {"set": True}
    assert channel["config"]["account_sid"] == TWILIO_SID
    assert channel["config"]["api_base_url"] == "http://t.test"
    assert channel["config"]["messaging_service_sid"] is None
    for response in (
        await client.get(f"/v1/channels/{channel['id']}", headers=tenant.headers),
        await client.get("/v1/channels", headers=tenant.headers),
    ):
        assert token not in response.text
    stored = await raw_config(db, channel["id"])
    assert token not in stored and TWILIO_SID not in stored
    [(action, changes)] = await audited_changes(db, channel["id"])
    assert action == "channel.created"
    assert token not in changes and "[redacted]" in changes


async def test_whatsapp_channel_takes_its_ids_from_the_config(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    channel = await create(client, tenant.headers, whatsapp_body())

    assert channel["kind"] == "whatsapp"
    assert (channel["waba_id"], channel["phone_number_id"]) == (WABA_ID, PHONE_NUMBER_ID)
    assert channel["sender"] == PHONE_NUMBER_ID
    assert channel["config"]["access_token"] == {"set": True}
    assert channel["config"]["app_secret"] == {"set": True}
    assert channel["config"]["verify_token"] == {"set": False}


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"provider": "carrier-pigeon"}, "simulator, twilio"),
        ({"provider": "whatsapp_cloud"}, "simulator, twilio"),
        ({"kind": "whatsapp", "provider": "vonage"}, "simulator, twilio, whatsapp_cloud"),
    ],
)
async def test_unknown_or_unfit_provider_names_the_supported_ones(
    client: httpx.AsyncClient, tenant: TenantFixture, change: dict[str, str], names: str
) -> None:
    response = await client.post("/v1/channels", json=sms_body(**change), headers=tenant.headers)

    assert response.status_code == 422
    assert names in response.json()["detail"]


async def test_config_problems_are_listed(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    body = sms_body(provider="twilio", config={"account_sid": "nope", "surprise": 1})
    response = await client.post("/v1/channels", json=body, headers=tenant.headers)

    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"config.account_sid", "config.auth_token", "config.surprise"} <= fields


@pytest.mark.parametrize(
    "change",
    [
        {"rate_per_second": 0},
        {"sender": None},
        {"sender": "not a sender id at all"},
        {"unknown": True},
        {"config": {"api_key": "x" * 5000}},
    ],
)
async def test_invalid_bodies(
    client: httpx.AsyncClient, tenant: TenantFixture, change: dict[str, object]
) -> None:
    body = {key: value for key, value in {**sms_body(), **change}.items() if value is not None}
    response = await client.post("/v1/channels", json=body, headers=tenant.headers)

    assert response.status_code == 422


async def test_a_whatsapp_channel_without_phone_number_id_needs_a_sender(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    body = sms_body(
        kind="whatsapp",
        provider="twilio",
        config={"account_sid": TWILIO_SID, "auth_token": "t" * 9},
    )
    body.pop("sender")

    missing = await client.post("/v1/channels", json=body, headers=tenant.headers)
    given = await client.post(
        "/v1/channels", json={**body, "sender": "+15550111"}, headers=tenant.headers
    )

    assert missing.status_code == 422
    assert "phone_number_id" in missing.json()["detail"]
    assert given.status_code == 201


async def test_duplicate_name_is_a_conflict(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    await create(client, tenant.headers, sms_body(name="Twice"))
    response = await client.post(
        "/v1/channels", json=sms_body(name="Twice"), headers=tenant.headers
    )

    assert response.status_code == 409


async def test_update_merges_config_and_replaces_a_secret(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    body = sms_body(
        provider="twilio", config={"account_sid": TWILIO_SID, "auth_token": "first-token"}
    )
    channel = await create(client, tenant.headers, body)
    url = f"/v1/channels/{channel['id']}"

    response = await client.patch(
        url,
        json={"config": {"auth_token": "second-token"}, "rate_per_day": 1000, "name": "Renamed"},
        headers=tenant.headers,
    )

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["config"]["account_sid"] == TWILIO_SID
    assert updated["config"]["auth_token"] == {"set": True}
    assert (updated["rate_per_day"], updated["name"]) == (1000, "Renamed")
    async with db.tenant_session(tenant.id) as session:
        stored = await get_channel(session, tenant.id, channel["id"])
        assert stored.config == {"account_sid": TWILIO_SID, "auth_token": "second-token"}
    bad = await client.patch(url, json={"config": {"account_sid": "AC1"}}, headers=tenant.headers)
    assert bad.status_code == 422
    assert "config.account_sid" in bad.json()["detail"]
    null = await client.patch(url, json={"rate_per_second": None}, headers=tenant.headers)
    assert null.status_code == 422
    fixed = await client.patch(url, json={"kind": "whatsapp"}, headers=tenant.headers)
    assert fixed.status_code == 422


async def test_a_cleared_simulator_url_goes_back_to_this_herald(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    channel = await create(
        client, tenant.headers, sms_body(config={"api_base_url": "http://x.test"})
    )

    response = await client.patch(
        f"/v1/channels/{channel['id']}",
        json={"config": {"api_base_url": None}},
        headers=tenant.headers,
    )

    assert response.json()["config"]["api_base_url"] == "http://127.0.0.1:8000/sim"


async def test_list_filters_and_pages(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    sms = [await create(client, tenant.headers, sms_body(name=f"S{i}")) for i in range(3)]
    await create(client, tenant.headers, whatsapp_body(name="W"))
    await client.post(f"/v1/channels/{sms[0]['id']}/pause", headers=tenant.headers)

    first = (await client.get("/v1/channels?kind=sms&limit=2", headers=tenant.headers)).json()
    second = await client.get(
        f"/v1/channels?kind=sms&limit=2&cursor={first['next_cursor']}", headers=tenant.headers
    )
    paused = await client.get("/v1/channels?status=paused", headers=tenant.headers)
    wa = await client.get("/v1/channels?provider=whatsapp_cloud", headers=tenant.headers)

    names = [c["name"] for c in first["items"] + second.json()["items"]]
    assert names == ["S0", "S1", "S2"]
    assert [c["name"] for c in paused.json()["items"]] == ["S0"]
    assert [c["name"] for c in wa.json()["items"]] == ["W"]


async def test_pause_and_resume(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    channel = await create(client, tenant.headers, sms_body())
    url = f"/v1/channels/{channel['id']}"

    paused = await client.post(f"{url}/pause", json={"reason": "holiday"}, headers=tenant.headers)
    resumed = await client.post(f"{url}/resume", headers=tenant.headers)

    assert (paused.json()["status"], paused.json()["status_reason"]) == ("paused", "holiday")
    assert (resumed.json()["status"], resumed.json()["status_reason"]) == ("active", None)


async def test_delete(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    channel = await create(client, tenant.headers, sms_body())
    url = f"/v1/channels/{channel['id']}"

    assert (await client.delete(url, headers=tenant.headers)).status_code == 204
    assert (await client.get(url, headers=tenant.headers)).status_code == 404


async def test_other_tenant_sees_nothing(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    channel = await create(client, tenant.headers, sms_body())
    url = f"/v1/channels/{channel['id']}"
    headers = other_tenant.headers

    listed = await client.get("/v1/channels", headers=headers)
    assert listed.json()["items"] == []
    for method, path, body in (
        ("GET", url, None),
        ("PATCH", url, {"name": "Mine"}),
        ("DELETE", url, None),
        ("POST", f"{url}/pause", None),
        ("POST", f"{url}/resume", None),
        ("POST", f"{url}/test", None),
        ("POST", f"{url}/sync-templates", None),
        ("POST", f"{url}/submit-template", {"template_id": channel["id"]}),
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 404, (method, path)


async def test_roles(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    channel = await create(client, tenant.headers, sms_body())
    url = f"/v1/channels/{channel['id']}"
    manager = await tenant.key_for(Role.manager)
    agent = await tenant.key_for(Role.agent)
    viewer = await tenant.key_for(Role.viewer)

    for method, path, body in (
        ("POST", "/v1/channels", sms_body()),
        ("PATCH", url, {"name": "Mine"}),
        ("DELETE", url, None),
        ("POST", f"{url}/test", None),
    ):
        response = await client.request(method, path, json=body, headers=manager)
        assert response.status_code == 403, (method, path)
    for method, path, body in (
        ("POST", f"{url}/pause", None),
        ("POST", f"{url}/resume", None),
        ("POST", f"{url}/sync-templates", None),
        ("POST", f"{url}/submit-template", {"template_id": channel["id"]}),
    ):
        response = await client.request(method, path, json=body, headers=agent)
        assert response.status_code == 403, (method, path)
    assert (await client.get(url, headers=viewer)).status_code == 200
    assert (await client.get("/v1/channels", headers=viewer)).status_code == 200
