"""The simulator's own endpoints: message list, controls, templates, receipts, mounting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest
import pytest_asyncio
from fastapi import FastAPI

from herald.app import create_app
from herald.providers.base import Inbound, TemplateQualityUpdate, TemplateStatusUpdate
from herald.providers.registry import PROVIDERS
from herald.providers.whatsapp_cloud.adapter import WhatsAppCloudProvider
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig
from herald.settings import Settings
from herald.sim.state import SimMessage, SimState
from tests.sim.server import Receiver, SimServer

WABA = "102290129340398"


@pytest_asyncio.fixture
async def client(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.url) as http:
        yield http


async def send_native(client: httpx.AsyncClient, to: str, sender: str, body: str) -> str:
    response = await client.post(
        "/native/messages",
        json={"to": to, "from": sender, "body": body},
        headers={"Authorization": "Bearer k"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_health_and_info(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    info = (await client.get("/")).json()
    assert "twilio" in info["providers"]
    assert (await client.get("/openapi.json")).status_code == 200


async def test_messages_newest_first_with_limit_and_filters(client: httpx.AsyncClient) -> None:
    ids = [await send_native(client, f"+1555000000{i}", "+15550009999", f"m{i}") for i in range(4)]
    twilio = await client.post(
        "/twilio/2010-04-01/Accounts/AC1/Messages.json",
        data={"To": "+15550000001", "From": "+15550008888", "Body": "t"},
        auth=("AC1", "token"),
    )
    assert twilio.status_code == 201
    items = (await client.get("/messages")).json()["items"]
    assert [item["provider_message_id"] for item in items[1:]] == ids[::-1]
    assert items[0]["provider"] == "twilio"
    assert set(items[0]) >= {
        "to",
        "from",
        "body",
        "provider",
        "provider_message_id",
        "status",
        "created_at",
    }
    assert len((await client.get("/messages", params={"limit": 2})).json()["items"]) == 2
    by_to = (await client.get("/messages", params={"to": "+15550000001"})).json()["items"]
    assert [item["body"] for item in by_to] == ["t", "m1"]
    by_from = (await client.get("/messages", params={"from": "+15550008888"})).json()["items"]
    assert [item["provider"] for item in by_from] == ["twilio"]
    by_provider = (await client.get("/messages", params={"provider": "simulator"})).json()["items"]
    assert len(by_provider) == 4
    assert (await client.get("/messages", params={"limit": 100_001})).status_code == 422
    assert (await client.get("/messages", params={"provider": "smoke"})).status_code == 422
    assert (await client.delete("/messages")).status_code == 204
    assert (await client.get("/messages")).json()["items"] == []


def test_the_store_is_bounded() -> None:
    state = SimState(capacity=3)
    for i in range(5):
        state.record(SimMessage("simulator", f"id{i}", "+1", "+2", "b", datetime.now(UTC)))
    assert [m.provider_message_id for m in state.messages] == ["id4", "id3", "id2"]
    assert set(state.by_id) == {"id4", "id3", "id2"}


async def test_sender_controls(client: httpx.AsyncClient) -> None:
    defaults = (await client.get("/control/senders/+15550009999")).json()
    assert defaults["down"] is False and defaults["receipt_delay_ms"] == 50
    bad = await client.put("/control/senders/+15550009999", json={"fail_permanent_share": 2})
    assert bad.status_code == 422
    unknown = await client.put("/control/senders/+15550009999", json={"surprise": True})
    assert unknown.status_code == 422
    assert (
        await client.put("/control/senders/+15550009999", json={"down": True})
    ).status_code == 200
    assert (await client.get("/control/senders/+15550009999")).json()["down"] is True
    assert (await client.delete("/control/senders/+15550009999")).status_code == 204
    assert (await client.get("/control/senders/+15550009999")).json()["down"] is False


async def test_credentials_are_required_even_when_any_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    url = "/twilio/2010-04-01/Accounts/AC1/Messages.json"
    form = {"To": "+15550000001", "From": "+15550008888", "Body": "t"}
    assert (await client.post(url, data=form)).status_code == 401
    assert (await client.post(url, data=form, auth=("AC2", "token"))).status_code == 401
    assert (await client.post("/native/messages", json={})).status_code == 401
    assert (await client.post("/whatsapp/v23.0/1/messages", json={})).status_code == 401


async def test_a_refused_receipt_is_retried(
    client: httpx.AsyncClient, receiver: Receiver, sim: SimServer
) -> None:
    await client.put(
        "/control/senders/+15550009999",
        json={"callback_url": receiver.url + "/hook", "receipt_delay_ms": 0},
    )
    receiver.refuse_first = 1
    message_id = await send_native(client, "+15550000001", "+15550009999", "m")
    first, again, delivered = [await receiver.next() for _ in range(3)]
    assert first.body == again.body
    assert orjson.loads(again.body)["status"] == "sent"
    last = orjson.loads(delivered.body)
    assert (last["message_id"], last["status"]) == (message_id, "delivered")


async def test_whatsapp_templates_and_their_status_webhook(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    secret = "app-secret-1234"
    await client.put(
        f"/control/senders/{WABA}",
        json={"callback_url": receiver.url + "/hook", "signing_secret": secret},
    )
    auth = {"Authorization": "Bearer t"}
    template = {
        "name": "spring_sale",
        "language": "en_US",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Ada"]]}}],
    }
    url = f"/whatsapp/v23.0/{WABA}/message_templates"
    created = await client.post(url, json=template, headers=auth)
    assert created.status_code == 200
    assert created.json()["status"] == "PENDING"
    template_id = created.json()["id"]
    duplicate = await client.post(url, json=template, headers=auth)
    assert duplicate.json()["error"]["error_subcode"] == 2388024
    invalid = await client.post(url, json=template | {"name": "Spring Sale"}, headers=auth)
    assert invalid.status_code == 400 and "lowercase" in invalid.json()["error"]["message"]
    pending = (await client.get(url, params={"status": "PENDING"}, headers=auth)).json()
    assert [t["id"] for t in pending["data"]] == [template_id]

    decided = await client.post(
        f"/control/whatsapp/{WABA}/templates/{template_id}",
        json={"status": "REJECTED", "reason": "INCORRECT_CATEGORY"},
    )
    assert decided.json()["status"] == "REJECTED"
    posted = await receiver.next()
    provider = WhatsAppCloudProvider()
    config = WhatsAppCloudConfig(
        phone_number_id="1",
        access_token="t" * 10,
        app_secret=secret,  # type: ignore[arg-type]
    )
    assert provider.verify(config, posted.url, posted.headers, posted.body)
    [update] = provider.parse(config, posted.body, "application/json")
    assert isinstance(update, TemplateStatusUpdate)
    assert (update.provider_template_id, update.event, update.reason) == (
        template_id,
        "REJECTED",
        "INCORRECT_CATEGORY",
    )
    assert (await client.get(url, params={"status": "PENDING"}, headers=auth)).json()["data"] == []
    missing = await client.post(
        f"/control/whatsapp/{WABA}/templates/1", json={"status": "APPROVED"}
    )
    assert missing.status_code == 404


async def test_a_template_quality_rating_posts_its_webhook(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    secret = "app-secret-1234"
    await client.put(
        f"/control/senders/{WABA}",
        json={"callback_url": receiver.url + "/hook", "signing_secret": secret},
    )
    template = {
        "name": "spring_sale",
        "language": "en_US",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Ada"]]}}],
    }
    created = await client.post(
        f"/whatsapp/v23.0/{WABA}/message_templates",
        json=template,
        headers={"Authorization": "Bearer t"},
    )
    template_id = created.json()["id"]
    control = f"/control/whatsapp/{WABA}/templates/{template_id}/quality"

    rated = await client.post(control, json={"score": "YELLOW"})

    assert rated.json()["quality_score"] == {"score": "YELLOW"}
    posted = await receiver.next()
    config = WhatsAppCloudConfig(
        phone_number_id="1",
        access_token="t" * 10,
        app_secret=secret,  # type: ignore[arg-type]
    )
    provider = WhatsAppCloudProvider()
    assert provider.verify(config, posted.url, posted.headers, posted.body)
    [update] = provider.parse(config, posted.body, "application/json")
    assert isinstance(update, TemplateQualityUpdate)
    assert (update.provider_template_id, update.previous_score, update.new_score) == (
        template_id,
        "UNKNOWN",
        "YELLOW",
    )
    assert (await client.post(control, json={"score": "PURPLE"})).status_code == 422
    missing = f"/control/whatsapp/{WABA}/templates/1/quality"
    assert (await client.post(missing, json={"score": "RED"})).status_code == 404


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_api_mounts_the_simulator_when_enabled(settings: Settings, enabled: bool) -> None:
    app: FastAPI = create_app(settings.model_copy(update={"sim_enabled": enabled}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        response = await http.get("/sim/healthz")
    assert response.status_code == (200 if enabled else 404)


INBOUND_CASES = [
    (
        "twilio",
        "+15550001111",
        "twilio",
        {"account_sid": "AC" + "0" * 32, "auth_token": "sim-secret-1234"},
    ),
    (
        "whatsapp",
        "106540352242922",
        "whatsapp_cloud",
        {
            "phone_number_id": "106540352242922",
            "access_token": "t" * 10,
            "app_secret": "sim-secret-1234",
        },
    ),
    (
        "vonage",
        "447700900000",
        "vonage",
        {"api_key": "abcd1234", "api_secret": "s" * 8, "signature_secret": "sim-secret-1234"},
    ),
    (
        "simulator",
        "+15550009999",
        "simulator",
        {"api_key": "k", "signing_secret": "sim-secret-1234"},
    ),
]


@pytest.mark.parametrize(("wire", "to", "code", "channel_config"), INBOUND_CASES)
async def test_inbound_messages_arrive_signed_in_each_format(
    client: httpx.AsyncClient,
    receiver: Receiver,
    wire: str,
    to: str,
    code: str,
    channel_config: dict[str, str],
) -> None:
    callback = f"{receiver.url}/v1/hooks/{code}/1/inbound"
    await client.put(
        f"/control/senders/{to}",
        json={"callback_url": callback, "signing_secret": "sim-secret-1234"},
    )
    sent = await client.post(
        "/control/inbound",
        json={"provider": wire, "from": "+447700900123", "to": to, "body": "STOP"},
    )
    assert sent.status_code == 202
    posted = await receiver.next()
    provider = PROVIDERS[code]
    config = provider.config_schema.model_validate(channel_config)
    assert provider.verify(config, callback, posted.headers, posted.body)
    [event] = provider.parse(config, posted.body, posted.headers["Content-Type"])
    assert isinstance(event, Inbound)
    assert (event.sender, event.body) == ("+447700900123", "STOP")


async def test_inbound_needs_a_registered_callback(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/control/inbound",
        json={"provider": "vonage", "from": "+447700900123", "to": "447700900001", "body": "hi"},
    )
    assert response.status_code == 422
    assert "PUT /sim/control/senders/447700900001" in response.json()["detail"]
