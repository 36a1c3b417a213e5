"""The Vonage SMS API adapter end to end against the simulator, and its webhooks."""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlencode

import aiohttp
import httpx
import jwt
import orjson

from herald.providers.base import (
    Accepted,
    DeliveryStatus,
    ErrorKind,
    Failed,
    Inbound,
    OptedOut,
    OutboundMessage,
    Receipt,
    RetryLater,
)
from herald.providers.vonage.adapter import VonageProvider
from herald.providers.vonage.config import VonageConfig
from herald.providers.vonage.webhooks import signature
from tests.sim.server import Receiver, SimServer

KEY, SECRET, SIGNING = "abcd1234", "api-secret-1", "signature-secret-of-at-least-32-bytes"
SENDER = "Herald"
FORM = "application/x-www-form-urlencoded"
provider = VonageProvider()


def config(base: str, **extra: object) -> VonageConfig:
    return VonageConfig.model_validate(
        {"api_base_url": base, "api_key": KEY, "api_secret": SECRET, "signature_secret": SIGNING}
        | extra
    )


def message(**extra: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "to": "+447700900123",
        "sender": SENDER,
        "reference": "msg-9",
        "body": "Sale ends tonight",
    }
    return OutboundMessage(**(fields | extra))  # type: ignore[arg-type]


async def control(sim: SimServer, **settings: object) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.put(f"{sim.url}/control/senders/{SENDER}", json=settings)
        assert response.status_code == 200, response.text


def test_defaults_and_secrets() -> None:
    assert VonageConfig.model_fields["api_base_url"].default == "https://rest.nexmo.com"
    assert provider.secret_fields == {"api_secret", "signature_secret"}


async def test_accepted_with_price(sim: SimServer, http: aiohttp.ClientSession) -> None:
    result = await provider.send(http, config(sim.url + "/vonage"), message())
    assert isinstance(result, Accepted)
    assert result.segments == 1
    assert result.price == Decimal("0.0333")
    assert sim.sim.state.by_id[result.provider_message_id].reference == "msg-9"


async def test_wire_format(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    receiver.body = orjson.dumps(
        {
            "message-count": "2",
            "messages": [
                {"to": "447700900123", "message-id": "A1", "status": "0", "message-price": "0.03"},
                {"to": "447700900123", "message-id": "A2", "status": "0", "message-price": "0.03"},
            ],
        }
    )
    callback = "https://herald.example/v1/hooks/vonage/1/status"
    result = await provider.send(
        http, config(receiver.url), message(body="Ça va?", status_callback_url=callback)
    )
    sent = await receiver.next()
    assert sent.url == f"{receiver.url}/sms/json"
    assert parse_qs(sent.body.decode()) == {
        "api_key": [KEY],
        "api_secret": [SECRET],
        "from": [SENDER],
        "to": ["447700900123"],
        "text": ["Ça va?"],
        "type": ["unicode"],
        "client-ref": ["msg-9"],
        "callback": [callback],
        "status-report-req": ["1"],
    }
    assert result == Accepted("A1", "accepted", 2, Decimal("0.06"))


async def test_each_failure_class(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url + "/vonage")
    for settings, expected in [
        ({"fail_permanent_share": 1.0}, Failed("3", "Invalid to address")),
        ({"opt_out_share": 1.0}, OptedOut("7", "Number barred")),
        ({"fail_transient_share": 1.0}, RetryLater("5", "Internal Error")),
    ]:
        await control(sim, **settings)
        assert await provider.send(http, cfg, message()) == expected
    await control(sim, rate_limit_per_second=1)
    await provider.send(http, cfg, message())
    limited = await provider.send(http, cfg, message())
    assert isinstance(limited, RetryLater) and limited.code == "1"
    await control(sim, down=True)
    down = await provider.send(http, cfg, message())
    assert isinstance(down, RetryLater) and down.code == "503"
    await control(sim, timeout_share=1.0, hang_ms=2_000)
    slow = await provider.send(http, config(sim.url + "/vonage", timeout_seconds=0.2), message())
    assert isinstance(slow, RetryLater) and slow.code == "timeout"


async def test_check_credentials(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url + "/vonage")
    assert (await provider.check_credentials(http, cfg)).ok
    async with httpx.AsyncClient() as client:
        await client.put(f"{sim.url}/control/credentials/{KEY}", json={"secret": "nope"})
    assert not (await provider.check_credentials(http, cfg)).ok
    assert isinstance(await provider.send(http, cfg, message()), Failed)


async def test_signed_receipts_reach_the_callback(
    sim: SimServer, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    await control(sim, signing_secret=SIGNING, receipt_delay_ms=0, undelivered_share=1.0)
    callback = receiver.url + "/v1/hooks/vonage/1/status"
    cfg = config(sim.url + "/vonage")
    sent = await provider.send(http, cfg, message(status_callback_url=callback))
    assert isinstance(sent, Accepted)
    statuses = []
    for _ in range(2):
        posted = await receiver.next()
        assert provider.verify(cfg, posted.url, posted.headers, posted.body)
        assert not provider.verify(
            config(sim.url, signature_secret="x" * 12), posted.url, posted.headers, posted.body
        )
        [receipt] = provider.parse(cfg, posted.body, FORM)
        assert isinstance(receipt, Receipt) and receipt.reference == "msg-9"
        statuses.append((receipt.status, receipt.error_kind))
    assert statuses == [(DeliveryStatus.sent, None), (DeliveryStatus.failed, ErrorKind.failed)]


def test_signature_methods_and_window() -> None:
    now = int(time.time())
    params = {
        "msisdn": "447700900123",
        "to": "Herald",
        "messageId": "A1",
        "status": "delivered",
        "text": "a&b=c",
        "timestamp": str(now),
        "nonce": "n1",
    }
    for method in ("md5hash", "md5", "sha1", "sha256", "sha512"):
        cfg = config("https://rest.nexmo.com", signature_method=method)
        signed = params | {"sig": signature(SIGNING, method, params.items()).upper()}
        body = urlencode(signed).encode()
        assert provider.verify(cfg, "https://h/x", {"Content-Type": FORM}, body), method
        tampered = urlencode(signed | {"status": "failed"}).encode()
        assert not provider.verify(cfg, "https://h/x", {"Content-Type": FORM}, tampered), method
    stale = params | {"timestamp": str(now - 3600)}
    stale_body = urlencode(stale | {"sig": signature(SIGNING, "md5hash", stale.items())}).encode()
    assert not provider.verify(
        config("https://h"), "https://h/x", {"Content-Type": FORM}, stale_body
    )
    query = urlencode(params | {"sig": signature(SIGNING, "md5hash", params.items())})
    assert provider.verify(config("https://h"), f"https://h/x?{query}", {}, b"")


def test_messages_api_jwt() -> None:
    body = orjson.dumps({"message_uuid": "u1", "status": "delivered", "to": "447700900123"})
    claims = {
        "iat": int(time.time()),
        "jti": "j1",
        "payload_hash": hashlib.sha256(body).hexdigest(),
    }
    token = jwt.encode(claims, SIGNING, algorithm="HS256")
    cfg = config("https://h")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    assert provider.verify(cfg, "https://h/x", headers, body)
    assert not provider.verify(cfg, "https://h/x", headers, body.replace(b"delivered", b"rejected"))
    forged = jwt.encode(claims, "another-secret-of-at-least-32-bytes", algorithm="HS256")
    assert not provider.verify(
        cfg, "https://h/x", headers | {"Authorization": f"Bearer {forged}"}, body
    )


def test_no_signature_secret_refuses_everything() -> None:
    cfg = VonageConfig(api_key=KEY, api_secret=SECRET)  # type: ignore[arg-type]
    assert not provider.verify(cfg, "https://h/x", {}, b"sig=abc")


def test_parse_dlr_and_inbound_parts() -> None:
    cfg = config("https://h")
    dlr = {
        "msisdn": "447700900123",
        "to": "Herald",
        "messageId": "A1",
        "status": "expired",
        "err-code": "2",
        "message-timestamp": "2026-12-01 04:05:06",
        "client-ref": "msg-9",
    }
    [receipt] = provider.parse(cfg, orjson.dumps(dlr), "application/json")
    assert isinstance(receipt, Receipt)
    assert (receipt.status, receipt.error_code, receipt.error_kind) == (
        DeliveryStatus.undelivered,
        "2",
        ErrorKind.retry_later,
    )
    assert receipt.occurred_at is not None and receipt.occurred_at.hour == 4
    part = {
        "msisdn": "447700900123",
        "to": "447700900000",
        "messageId": "B2",
        "text": "STOP",
        "type": "text",
        "keyword": "STOP",
        "concat": "true",
        "concat-ref": "7",
        "concat-total": "2",
        "concat-part": "1",
    }
    [inbound] = provider.parse(cfg, urlencode(part).encode(), FORM)
    assert isinstance(inbound, Inbound)
    assert (inbound.sender, inbound.to, inbound.body) == ("+447700900123", "+447700900000", "STOP")
    assert inbound.concat is not None and (inbound.concat.part, inbound.concat.total) == (1, 2)
