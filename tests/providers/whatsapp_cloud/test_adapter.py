"""The WhatsApp Cloud API adapter end to end against the simulator over real HTTP."""

from __future__ import annotations

import aiohttp
import httpx
import orjson

from herald.providers.base import (
    Accepted,
    DeliveryStatus,
    Failed,
    Media,
    OptedOut,
    OutboundMessage,
    Receipt,
    RetryLater,
    WhatsAppTemplate,
)
from herald.providers.whatsapp_cloud.adapter import WhatsAppCloudProvider
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig
from tests.sim.server import Receiver, SimServer

PHONE_ID = "106540352242922"
TOKEN = "EAAG-access-token"
APP_SECRET = "app-secret-1234"
provider = WhatsAppCloudProvider()


def config(base: str, **extra: object) -> WhatsAppCloudConfig:
    return WhatsAppCloudConfig.model_validate(
        {
            "api_base_url": base,
            "phone_number_id": PHONE_ID,
            "access_token": TOKEN,
            "app_secret": APP_SECRET,
            **extra,
        }
    )


def message(**extra: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "to": "+447700900123",
        "sender": PHONE_ID,
        "reference": "msg-7",
        "body": "Your order shipped",
    }
    return OutboundMessage(**(fields | extra))  # type: ignore[arg-type]


async def control(sim: SimServer, sender: str, **settings: object) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.put(f"{sim.url}/control/senders/{sender}", json=settings)
        assert response.status_code == 200, response.text


def test_defaults_and_secrets() -> None:
    cfg = config("https://graph.facebook.com")
    assert cfg.api_version == "v23.0"
    assert WhatsAppCloudConfig.model_fields["api_base_url"].default == "https://graph.facebook.com"
    assert provider.secret_fields == {"access_token", "app_secret", "verify_token"}


async def test_accepted(sim: SimServer, http: aiohttp.ClientSession) -> None:
    result = await provider.send(http, config(sim.url + "/whatsapp"), message())
    assert isinstance(result, Accepted)
    assert result.provider_message_id.startswith("wamid.")
    assert result.provider_status == "accepted"
    recorded = sim.sim.state.by_id[result.provider_message_id]
    assert (recorded.to, recorded.body, recorded.reference) == (
        "+447700900123",
        "Your order shipped",
        "msg-7",
    )


async def test_template_wire_format(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    receiver.body = orjson.dumps(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "447700900123", "wa_id": "447700900123"}],
            "messages": [{"id": "wamid.X1", "message_status": "accepted"}],
        }
    )
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}]
    template = WhatsAppTemplate("order_shipped", "en_US", components)
    result = await provider.send(http, config(receiver.url), message(template=template))
    sent = await receiver.next()
    assert sent.url == f"{receiver.url}/v23.0/{PHONE_ID}/messages"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert orjson.loads(sent.body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "447700900123",
        "biz_opaque_callback_data": "msg-7",
        "type": "template",
        "template": {
            "name": "order_shipped",
            "language": {"code": "en_US"},
            "components": components,
        },
    }
    assert result == Accepted("wamid.X1", "accepted")


async def test_media_wire_format(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    receiver.body = orjson.dumps({"messages": [{"id": "wamid.X2"}]})
    media = (Media(content_type="image/jpeg", url="https://cdn.example/a.jpg"),)
    await provider.send(http, config(receiver.url), message(media=media))
    body = orjson.loads((await receiver.next()).body)
    assert body["type"] == "image"
    assert body["image"] == {"link": "https://cdn.example/a.jpg", "caption": "Your order shipped"}


async def test_each_failure_class(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url + "/whatsapp")
    cases: list[tuple[dict[str, object], type]] = [
        ({"fail_permanent_share": 1.0}, Failed),
        ({"opt_out_share": 1.0}, OptedOut),
        ({"fail_transient_share": 1.0}, RetryLater),
        ({"down": True}, RetryLater),
    ]
    for settings, expected in cases:
        await control(sim, PHONE_ID, **settings)
        assert isinstance(await provider.send(http, cfg, message()), expected), settings
    await control(sim, PHONE_ID, rate_limit_per_second=1)
    await provider.send(http, cfg, message())
    limited = await provider.send(http, cfg, message())
    assert limited == RetryLater("130429", "Rate limit hit", 1.0)
    await control(sim, PHONE_ID, timeout_share=1.0, hang_ms=2_000)
    slow = await provider.send(http, config(sim.url + "/whatsapp", timeout_seconds=0.2), message())
    assert isinstance(slow, RetryLater) and slow.code == "timeout"


async def test_opted_out_reason_comes_from_details(
    sim: SimServer, http: aiohttp.ClientSession
) -> None:
    await control(sim, PHONE_ID, opt_out_share=1.0)
    result = await provider.send(http, config(sim.url + "/whatsapp"), message())
    assert result == OptedOut("131050", "User has stopped marketing messages")


async def test_empty_message_is_failed_without_a_call(http: aiohttp.ClientSession) -> None:
    result = await provider.send(http, config("http://127.0.0.1:9"), message(body=None))
    assert isinstance(result, Failed) and result.code == "empty_message"


async def test_check_credentials(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url + "/whatsapp")
    assert (await provider.check_credentials(http, cfg)).ok
    async with httpx.AsyncClient() as client:
        await client.put(f"{sim.url}/control/credentials/{PHONE_ID}", json={"secret": "other"})
    assert not (await provider.check_credentials(http, cfg)).ok


async def test_signed_receipts_reach_the_callback(
    sim: SimServer, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    await control(
        sim,
        PHONE_ID,
        callback_url=receiver.url + "/v1/hooks/whatsapp_cloud/1",
        signing_secret=APP_SECRET,
        receipt_delay_ms=0,
        read_share=1.0,
    )
    cfg = config(sim.url + "/whatsapp")
    sent = await provider.send(http, cfg, message())
    assert isinstance(sent, Accepted)
    seen = []
    for _ in range(3):
        posted = await receiver.next()
        assert provider.verify(cfg, posted.url, posted.headers, posted.body)
        [receipt] = provider.parse(cfg, posted.body, "application/json")
        assert isinstance(receipt, Receipt)
        assert receipt.provider_message_id == sent.provider_message_id
        assert receipt.reference == "msg-7"
        seen.append(receipt.status)
    assert seen == [DeliveryStatus.sent, DeliveryStatus.delivered, DeliveryStatus.read]
