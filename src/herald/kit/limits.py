"""Request body limits by route class, enforced before the body is read.

A declared ``Content-Length`` above the limit is answered 413 at once, without reading a byte
of the body and before authentication: a large body costs the server nothing whoever sends
it. A body without a length (chunked) is counted as it streams, and reading stops at the first
chunk past the limit. Limits are by path prefix (uploads and webhooks differ from JSON
calls); the longest matching prefix wins, everything else gets the default.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.kit.errors import problem

CONTENT_TOO_LARGE = 413


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes its limit. An ``HTTPException`` so
    that FastAPI, which turns other errors met while reading a body into a 400, lets it pass
    to the problem handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(CONTENT_TOO_LARGE, too_large_detail(limit))


def too_large_detail(limit: int) -> str:
    return (
        f"The request body is larger than {_size(limit)}, the limit for this route: send less "
        "(split a bulk request, or upload a large file to /v1/imports)."
    )


def _size(limit: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= scale and limit % scale == 0:
            return f"{limit // scale} {unit}"
    return f"{limit} bytes"


class BodyLimits:
    """The limit of each path: the longest matching prefix of ``by_prefix``, else ``default``."""

    def __init__(self, default: int, by_prefix: Mapping[str, int]) -> None:
        self.default = default
        self.prefixes = sorted(by_prefix.items(), key=lambda item: len(item[0]), reverse=True)

    def of(self, path: str) -> int:
        for prefix, limit in self.prefixes:
            if path.startswith(prefix):
                return limit
        return self.default


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header as a number; ``None`` when absent or not a number (the
    server refuses a malformed one before the app sees it)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimitMiddleware:
    """Plain ASGI, so that nothing buffers the body before the limit is checked."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.of(scope["path"])
        length = declared_length(scope)
        if length is not None and length > limit:
            response = problem(
                Request(scope), CONTENT_TOO_LARGE, "Content too large", too_large_detail(limit)
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _counting(receive, limit), send)


def _counting(receive: Receive, limit: int) -> Receive:
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_within_limit
