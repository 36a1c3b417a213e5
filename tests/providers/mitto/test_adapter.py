"""The Mitto adapter end to end against the simulator, and its delivery reports."""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
import httpx
import orjson

from herald.providers.base import (
    Accepted,
    DeliveryStatus,
    Failed,
    OutboundMessage,
    Receipt,
    RetryLater,
)
from herald.providers.mitto.adapter import MittoProvider
from herald.providers.mitto.config import MittoConfig
from tests.sim.server import Receiver, SimServer

API_KEY, TOKEN, SENDER = "mitto-api-key-1", "webhook-token-0123456789", "Herald"
provider = MittoProvider()


def config(base: str, **extra: object) -> MittoConfig:
    return MittoConfig.model_validate(
        {"api_base_url": base, "api_key": API_KEY, "webhook_token": TOKEN} | extra
    )


def message(**extra: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "to": "+4917612345678",
        "sender": SENDER,
        "reference": "msg-3",
        "body": "Hallo",
    }
    return OutboundMessage(**(fields | extra))  # type: ignore[arg-type]


async def control(sim: SimServer, **settings: object) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.put(f"{sim.url}/control/senders/{SENDER}", json=settings)
        assert response.status_code == 200, response.text


def test_defaults_and_secrets() -> None:
    assert MittoConfig.model_fields["api_base_url"].default == "https://rest.mittoapi.net"
    assert provider.secret_fields == {"api_key", "webhook_token"}


async def test_accepted(sim: SimServer, http: aiohttp.ClientSession) -> None:
    result = await provider.send(http, config(sim.url + "/mitto"), message())
    assert isinstance(result, Accepted)
    assert sim.sim.state.by_id[result.provider_message_id].to == "+4917612345678"


async def test_wire_format(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    receiver.body = orjson.dumps({"id": "m-1", "to": "4917612345678", "responseCode": 0})
    callback = "https://herald.example/v1/hooks/mitto/1/status?token=t"
    result = await provider.send(http, config(receiver.url), message(status_callback_url=callback))
    sent = await receiver.next()
    assert sent.url == f"{receiver.url}/sms"
    assert sent.headers["X-Mitto-API-Key"] == API_KEY
    assert orjson.loads(sent.body) == {
        "from": SENDER,
        "to": "4917612345678",
        "text": "Hallo",
        "type": "auto",
        "reference": "msg-3",
        "callback": callback,
    }
    assert result == Accepted("m-1", "sent")


async def test_each_failure_class(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url + "/mitto")
    await control(sim, fail_permanent_share=1.0)
    assert await provider.send(http, cfg, message()) == Failed("8", "Invalid receiver")
    await control(sim, fail_transient_share=1.0)
    assert await provider.send(http, cfg, message()) == RetryLater("1", "Internal error")
    await control(sim, rate_limit_per_second=1)
    await provider.send(http, cfg, message())
    assert await provider.send(http, cfg, message()) == RetryLater("429", "HTTP 429", 1.0)
    await control(sim, down=True)
    assert isinstance(await provider.send(http, cfg, message()), RetryLater)
    assert isinstance(await provider.send(http, cfg, message(body=None)), Failed)


async def test_check_credentials(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url + "/mitto")
    assert (await provider.check_credentials(http, cfg)).ok
    assert sim.sim.state.messages == type(sim.sim.state.messages)()  # a test send is not kept
    async with httpx.AsyncClient() as client:
        await client.put(f"{sim.url}/control/credentials/mitto", json={"secret": "other"})
    assert not (await provider.check_credentials(http, cfg)).ok


async def test_receipts_reach_the_callback_with_the_token(
    sim: SimServer, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    await control(sim, receipt_delay_ms=0)
    callback = f"{receiver.url}/v1/hooks/mitto/1/status?token={TOKEN}"
    cfg = config(sim.url + "/mitto")
    sent = await provider.send(http, cfg, message(status_callback_url=callback))
    assert isinstance(sent, Accepted)
    seen = []
    for _ in range(2):
        posted = await receiver.next()
        assert provider.verify(cfg, posted.url, posted.headers, posted.body)
        [receipt] = provider.parse(cfg, posted.body, posted.headers["Content-Type"])
        assert isinstance(receipt, Receipt) and receipt.reference == "msg-3"
        seen.append(receipt.status)
    assert seen == [DeliveryStatus.sent, DeliveryStatus.delivered]
    assert not provider.verify(cfg, callback.replace(TOKEN, "x" * len(TOKEN)), {}, b"")
    assert not provider.verify(cfg, callback.split("?")[0], {}, b"")


def test_field_names_are_per_channel() -> None:
    cfg = config("https://h", dlr_fields={"id": "msgid", "status": "stat", "error": "err"})
    body = urlencode({"msgid": "m-9", "stat": "UNDELIV", "err": "34"}).encode()
    [receipt] = provider.parse(cfg, body, "application/x-www-form-urlencoded")
    assert isinstance(receipt, Receipt)
    assert (receipt.provider_message_id, receipt.status, receipt.error_code) == (
        "m-9",
        DeliveryStatus.undelivered,
        "34",
    )
    assert provider.parse(config("https://h"), body, "application/x-www-form-urlencoded") == []
