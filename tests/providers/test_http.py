"""The shared HTTP call: answers are read safely and classified, never raised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp

from herald.providers.base import Failed, OutboundMessage, RetryLater
from herald.providers.http import Answer, by_http_status
from herald.providers.twilio.adapter import TwilioProvider
from herald.providers.twilio.config import TwilioConfig
from tests.sim.server import Receiver


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert Answer(429, {"retry-after": "7"}, b"").retry_after() == 7.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    in_a_minute = Answer(503, {"Retry-After": later}, b"").retry_after()
    assert in_a_minute is not None and 0 < in_a_minute <= 60
    assert Answer(503, {"Retry-After": "soon"}, b"").retry_after() is None
    assert Answer(503, {}, b"").retry_after() is None


def test_unclassified_errors_go_by_http_status() -> None:
    assert by_http_status(Answer(502, {}, b""), "502", "bad gateway") == RetryLater(
        "502", "bad gateway"
    )
    assert by_http_status(Answer(404, {}, b""), "404", "gone") == Failed("404", "gone")


async def test_an_html_error_page_is_classified(
    receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.status, receiver.content_type = 502, "text/html"
    receiver.body = b"<html>Bad gateway</html>"
    config = TwilioConfig.model_validate(
        {"api_base_url": receiver.url, "account_sid": "AC" + "1" * 32, "auth_token": "token-123"}
    )
    message = OutboundMessage(to="+15550000001", sender="+15550000002", reference="r", body="b")
    result = await TwilioProvider().send(http, config, message)
    assert result == RetryLater("502", "HTTP 502")
