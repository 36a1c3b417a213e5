"""One HTTP call to a provider, with a timeout, where transport trouble becomes ``RetryLater``.

Adapters read the answer and classify it themselves; this module only guarantees that a
timeout or a refused connection never escapes as an exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import orjson

from herald.providers.base import ErrorKind, Failed, OptedOut, RetryLater, SendResult
from herald.providers.signing import header

MAX_RESPONSE_BYTES = 1_000_000
"""A provider's answer is small; anything larger is refused rather than read into memory."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is not JSON (an HTML error page, say)."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None

    def retry_after(self) -> float | None:
        """``Retry-After`` in seconds, whether sent as seconds or as an HTTP date."""
        value = header(self.headers, "Retry-After")
        if not value:
            return None
        if value.strip().isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    within: aiohttp.ClientTimeout,
    **kwargs: Any,
) -> Answer | RetryLater:
    """Make the request; a timeout or a connection error is a ``RetryLater``, never a raise."""
    try:
        async with http.request(method, url, timeout=within, **kwargs) as response:
            body = await response.content.read(MAX_RESPONSE_BYTES)
            return Answer(response.status, dict(response.headers), body)
    except TimeoutError:
        return RetryLater("timeout", f"no answer from {_host(url)} within {within.total} s")
    except asyncio.CancelledError:
        raise
    except aiohttp.ClientError as exc:
        return RetryLater("connection_error", f"{_host(url)}: {type(exc).__name__}: {exc}")


def _host(url: str) -> str:
    return url.split("/")[2] if "://" in url else url


def by_http_status(answer: Answer, code: str, reason: str) -> SendResult:
    """The outcome of an error the provider did not classify itself: by its HTTP status."""
    if answer.status == 429 or answer.status >= 500:
        return RetryLater(code, reason, answer.retry_after())
    return Failed(code, reason)


def outcome(
    kind: ErrorKind, code: str, reason: str, retry_after: float | None = None
) -> SendResult:
    """The send result for an error the provider's table classified."""
    if kind is ErrorKind.retry_later:
        return RetryLater(code, reason, retry_after)
    if kind is ErrorKind.opted_out:
        return OptedOut(code, reason)
    return Failed(code, reason)
