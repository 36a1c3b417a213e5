"""The Twilio adapter end to end against the simulator over real HTTP."""

from __future__ import annotations

import base64
from decimal import Decimal
from urllib.parse import parse_qs

import aiohttp
import httpx
import orjson
from twilio.request_validator import RequestValidator

from herald.contact.models import ChannelKind
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
from herald.providers.registry import PROVIDERS
from herald.providers.twilio.adapter import TwilioProvider
from herald.providers.twilio.config import TwilioConfig
from tests.sim.server import Receiver, SimServer

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token-1"
SENDER = "+15550001111"
provider = TwilioProvider()


def config(base: str, **extra: object) -> TwilioConfig:
    return TwilioConfig.model_validate(
        {"api_base_url": base, "account_sid": SID, "auth_token": TOKEN, **extra}
    )


def message(**extra: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "to": "+15557654321",
        "sender": SENDER,
        "reference": "msg-1",
        "body": "Hello",
    }
    return OutboundMessage(**(fields | extra))  # type: ignore[arg-type]


async def control(sim: SimServer, sender: str, **settings: object) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.put(f"{sim.url}/control/senders/{sender}", json=settings)
        assert response.status_code == 200, response.text


def test_registered_with_its_secret() -> None:
    assert PROVIDERS["twilio"] is not None
    assert provider.secret_fields == {"auth_token"}
    assert TwilioConfig.model_fields["api_base_url"].default == "https://api.twilio.com"


async def test_accepted(sim: SimServer, http: aiohttp.ClientSession) -> None:
    result = await provider.send(http, config(sim.url + "/twilio"), message())
    assert isinstance(result, Accepted)
    assert result.provider_message_id.startswith("SM") and len(result.provider_message_id) == 34
    assert result.provider_status == "queued"
    assert result.segments == 1
    recorded = sim.sim.state.by_id[result.provider_message_id]
    assert (recorded.to, recorded.sender, recorded.body) == ("+15557654321", SENDER, "Hello")


async def test_wire_format(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    receiver.status = 201
    receiver.body = orjson.dumps(
        {
            "sid": "SM" + "a" * 32,
            "status": "queued",
            "num_segments": "2",
            "price": "-0.0075",
            "price_unit": "USD",
        }
    )
    whatsapp = message(
        kind=ChannelKind.whatsapp,
        media=(Media(content_type="image/png", url="https://example.com/a.png"),),
        status_callback_url="https://herald.example/v1/hooks/twilio/1/status",
    )
    result = await provider.send(http, config(receiver.url), whatsapp)
    sent = await receiver.next()
    assert sent.method == "POST"
    assert sent.url.endswith(f"/2010-04-01/Accounts/{SID}/Messages.json")
    assert (
        sent.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent.body.decode()) == {
        "To": ["whatsapp:+15557654321"],
        "From": ["whatsapp:+15550001111"],
        "Body": ["Hello"],
        "MediaUrl": ["https://example.com/a.png"],
        "StatusCallback": ["https://herald.example/v1/hooks/twilio/1/status"],
    }
    assert result == Accepted("SM" + "a" * 32, "queued", 2, Decimal("0.0075"), "USD")


async def test_messaging_service_replaces_from(
    receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.status = 201
    receiver.body = orjson.dumps({"sid": "SM" + "b" * 32, "status": "accepted"})
    service = "MG" + "2" * 32
    await provider.send(http, config(receiver.url, messaging_service_sid=service), message())
    form = parse_qs((await receiver.next()).body.decode())
    assert form["MessagingServiceSid"] == [service]
    assert "From" not in form


async def test_each_failure_class(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url + "/twilio")
    cases = [
        (
            {"fail_permanent_share": 1.0},
            Failed("21211", "The 'To' number is not a valid phone number."),
        ),
        ({"opt_out_share": 1.0}, OptedOut("21610", "Attempt to send to unsubscribed recipient")),
        ({"fail_transient_share": 1.0}, RetryLater("20500", "Internal Server Error")),
        ({"rate_limit_per_second": 1}, None),
    ]
    for settings, expected in cases:
        await control(sim, SENDER, **settings)
        result = await provider.send(http, cfg, message())
        if expected is None:
            result = await provider.send(http, cfg, message())
            assert result == RetryLater("20429", "Too Many Requests", 1.0)
        else:
            assert result == expected


async def test_down_and_timeout_are_retry_later(
    sim: SimServer, http: aiohttp.ClientSession
) -> None:
    await control(sim, SENDER, down=True)
    down = await provider.send(http, config(sim.url + "/twilio"), message())
    assert isinstance(down, RetryLater) and down.code == "503"

    await control(sim, SENDER, timeout_share=1.0, hang_ms=2_000)
    slow = await provider.send(http, config(sim.url + "/twilio", timeout_seconds=0.2), message())
    assert isinstance(slow, RetryLater) and slow.code == "timeout"


async def test_connection_refused_is_retry_later(http: aiohttp.ClientSession) -> None:
    from tests.sim.server import free_port

    result = await provider.send(http, config(f"http://127.0.0.1:{free_port()}"), message())
    assert isinstance(result, RetryLater) and result.code == "connection_error"


async def test_template_is_refused_without_a_call(http: aiohttp.ClientSession) -> None:
    template = WhatsAppTemplate("order_ready", "en_US")
    result = await provider.send(http, config("http://127.0.0.1:9"), message(template=template))
    assert isinstance(result, Failed) and result.code == "unsupported_content"


async def test_check_credentials(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url + "/twilio")
    assert (await provider.check_credentials(http, cfg)).ok
    async with httpx.AsyncClient() as client:
        await client.put(f"{sim.url}/control/credentials/{SID}", json={"secret": "another-token"})
    refused = await provider.check_credentials(http, cfg)
    assert not refused.ok and "refused" in refused.detail


async def test_lookup(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url + "/twilio")
    await control(sim, SENDER, receipt_delay_ms=0)
    sent = await provider.send(http, cfg, message())
    assert isinstance(sent, Accepted)
    await sim.sim.courier.drain()
    found = await provider.lookup(http, cfg, sent.provider_message_id)
    assert isinstance(found, Receipt)
    assert found.status is DeliveryStatus.delivered
    assert await provider.lookup(http, cfg, "SM" + "0" * 32) is None


async def test_receipts_are_signed_for_the_request_validator(
    sim: SimServer, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    callback = f"{receiver.url}/v1/hooks/twilio/abc/status"
    await control(sim, SENDER, receipt_delay_ms=0)
    cfg = config(sim.url + "/twilio")
    sent = await provider.send(http, cfg, message(status_callback_url=callback))
    assert isinstance(sent, Accepted)
    validator = RequestValidator(TOKEN)
    statuses = []
    for _ in range(2):
        posted = await receiver.next()
        params = dict(parse_qs(posted.body.decode()))
        flat = {k: v[0] for k, v in params.items()}
        signature = posted.headers["X-Twilio-Signature"]
        assert validator.validate(callback, flat, signature)
        assert provider.verify(cfg, callback, posted.headers, posted.body)
        events = provider.parse(cfg, posted.body, posted.headers["Content-Type"])
        assert len(events) == 1 and isinstance(events[0], Receipt)
        statuses.append(events[0].status)
    assert statuses == [DeliveryStatus.sent, DeliveryStatus.delivered]
