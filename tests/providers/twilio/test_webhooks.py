"""Twilio webhook signatures (checked against the official RequestValidator) and parsing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from herald.providers.base import DeliveryStatus, ErrorKind, Inbound, Media, Receipt
from herald.providers.twilio.adapter import TwilioProvider
from herald.providers.twilio.config import TwilioConfig
from herald.providers.twilio.webhooks import signature

TOKEN = "12345678-token"
URL = "https://herald.example/v1/hooks/twilio/0193/status"
FORM = "application/x-www-form-urlencoded"
provider = TwilioProvider()
config = TwilioConfig(account_sid="AC" + "f" * 32, auth_token=TOKEN)  # type: ignore[arg-type]
oracle = RequestValidator(TOKEN)

STATUS = [
    ("MessageSid", "SM" + "c" * 32),
    ("SmsSid", "SM" + "c" * 32),
    ("AccountSid", "AC" + "f" * 32),
    ("From", "+15550001111"),
    ("To", "+15557654321"),
    ("MessageStatus", "undelivered"),
    ("SmsStatus", "undelivered"),
    ("ErrorCode", "30003"),
    ("ApiVersion", "2010-04-01"),
    ("RawDlrDoneDate", "2612010405"),
]


def headers(sig: str, content_type: str = FORM) -> dict[str, str]:
    return {"x-twilio-signature": sig, "content-type": content_type}


@pytest.mark.parametrize(
    "url", [URL, "https://herald.example:443/v1/hooks/twilio/0193/status", URL + "?a=1&b=2"]
)
def test_our_signature_is_what_the_validator_expects(url: str) -> None:
    body = urlencode(STATUS).encode()
    ours = signature(TOKEN, url, STATUS)
    assert oracle.validate(url, dict(STATUS), ours)
    assert provider.verify(config, url, headers(ours), body)


def test_multi_valued_params_are_sorted_like_the_validator() -> None:
    params = [
        ("MediaUrl", "https://b.example/2"),
        ("MediaUrl", "https://a.example/1"),
        ("To", "+1"),
    ]
    body = urlencode(params).encode()

    class Multi(dict[str, list[str]]):
        def getall(self, name: str) -> list[str]:
            return self[name]

    multi = Multi({"MediaUrl": ["https://b.example/2", "https://a.example/1"], "To": ["+1"]})
    expected = oracle.compute_signature(URL, multi)
    assert signature(TOKEN, URL, params) == expected
    assert provider.verify(config, URL, headers(expected), body)


def test_a_signature_with_or_without_the_default_port_is_accepted() -> None:
    body = urlencode(STATUS).encode()
    with_port = oracle.compute_signature(
        "https://herald.example:443/v1/hooks/twilio/0193/status", dict(STATUS)
    )
    assert provider.verify(config, URL, headers(with_port), body)


def test_json_body_is_covered_by_body_sha256() -> None:
    body = b'{"MessageSid": "SM1"}'
    url = f"{URL}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    sig = oracle.compute_signature(url, {})
    assert oracle.validate(url, body.decode(), sig)
    assert provider.verify(config, url, headers(sig, "application/json"), body)
    assert not provider.verify(config, url, headers(sig, "application/json"), body + b" ")


def test_tampering_or_a_wrong_token_is_refused() -> None:
    body = urlencode(STATUS).encode()
    good = signature(TOKEN, URL, STATUS)
    tampered = body.replace(b"undelivered", b"delivered")
    assert not provider.verify(config, URL, headers(good), tampered)
    assert not oracle.validate(URL, dict(STATUS) | {"MessageStatus": "delivered"}, good)
    wrong = signature("another-token", URL, STATUS)
    assert not provider.verify(config, URL, headers(wrong), body)
    assert not oracle.validate(URL, dict(STATUS), wrong)
    assert not provider.verify(config, URL, {"content-type": FORM}, body)
    assert not provider.verify(config, URL.replace("0193", "0194"), headers(good), body)


def test_sha256_shared_key_signatures() -> None:
    body = urlencode(STATUS).encode()
    sig = oracle.compute_signature(URL, dict(STATUS), "HMAC_SHA256")
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=k1,algorithm=HMAC_SHA256"}
    assert provider.verify(config, URL, headers(sig) | settings, body)
    unknown = {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_MD5"}
    assert not provider.verify(config, URL, headers(sig) | unknown, body)


def test_parse_status_callback() -> None:
    [receipt] = provider.parse(config, urlencode(STATUS).encode(), FORM)
    assert receipt == Receipt(
        provider_message_id="SM" + "c" * 32,
        status=DeliveryStatus.undelivered,
        provider_status="undelivered",
        event_id=f"SM{'c' * 32}:undelivered",
        error_code="30003",
        error_kind=ErrorKind.retry_later,
        occurred_at=datetime(2026, 12, 1, 4, 5, tzinfo=UTC),
    )


def test_statuses_out_of_order_keep_distinct_event_ids() -> None:
    sid = "SM" + "d" * 32
    events = []
    for status in ("delivered", "sent", "delivered"):
        body = urlencode({"MessageSid": sid, "MessageStatus": status}).encode()
        [event] = provider.parse(config, body, FORM)
        assert isinstance(event, Receipt)
        events.append((event.status, event.event_id))
    assert events[0] == events[2] == (DeliveryStatus.delivered, f"{sid}:delivered")
    assert events[1] == (DeliveryStatus.sent, f"{sid}:sent")


def test_parse_inbound_whatsapp_with_media() -> None:
    form = {
        "MessageSid": "MM" + "e" * 32,
        "SmsStatus": "received",
        "From": "whatsapp:+447700900123",
        "To": "whatsapp:+15550001111",
        "Body": "STOP",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/media/1",
        "MediaContentType0": "image/jpeg",
        "ProfileName": "Ada",
        "WaId": "447700900123",
        "OptOutType": "STOP",
    }
    [inbound] = provider.parse(config, urlencode(form).encode(), FORM)
    assert inbound == Inbound(
        provider_message_id="MM" + "e" * 32,
        sender="+447700900123",
        to="+15550001111",
        body="STOP",
        event_id="MM" + "e" * 32,
        media=(Media(content_type="image/jpeg", url="https://api.twilio.com/media/1"),),
        profile_name="Ada",
        opt_out_type="STOP",
    )


def test_unknown_shapes_parse_to_nothing() -> None:
    assert provider.parse(config, b'{"MessageSid": "SM1"}', "application/json") == []
    assert provider.parse(config, b"foo=bar", FORM) == []
