"""A short path through the app for provider callbacks.

Callbacks arrive at the rate messages are sent, and FastAPI's request handling — the router's
walk over every route, the exception and exit-stack middlewares, a request-response wrapper
and the dependency solver — cost more CPU than verifying and storing a callback does. This
middleware sits inside Herald's own ones (request id, log line, metrics, trusted proxies, body
limit: a callback gets all of them) and serves a request that one of the callback routes
matches by calling that route's endpoint with the channel id and the request. Anything else,
including a callback URL with the wrong method, goes on to FastAPI as usual.

The routes stay ordinary FastAPI routes: they describe the API in OpenAPI and serve on their
own without this middleware, which changes no answer. An error is answered by the handler the
app registered for it, as FastAPI would; a channel id that is not a UUID is the same 422.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from os.path import commonpath
from typing import Any, cast
from uuid import UUID

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[UUID, Request], Awaitable[Response]]
ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]
_CHANNEL_ID: TypeAdapter[UUID] = TypeAdapter(UUID)


class CallbackLane:
    """Serve the callback ``routes`` (endpoints taking ``channel_id`` and the request) without
    FastAPI's per-request machinery."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = [route for route in routes if isinstance(route, APIRoute)]
        heads = [route.path.split("{")[0] for route in self.routes]
        self.prefix = commonpath(heads) if heads else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._match(scope) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # the access log and the metrics name its template
        request = Request(scope, receive, send)
        try:
            raw = cast("dict[str, str]", scope["path_params"])["channel_id"]
            endpoint = cast("Endpoint", route.endpoint)
            response = await endpoint(_channel_id(raw), request)
        except Exception as exc:
            handler = _handler(scope, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> APIRoute | None:
        path: str = scope["path"]
        if not self.routes or not path.startswith(self.prefix):
            return None
        for route in self.routes:
            found = route.path_regex.match(path)
            if found is not None and scope["method"] in (route.methods or ()):
                scope["path_params"] = found.groupdict()
                return route
        return None


def _channel_id(raw: str) -> UUID:
    try:
        return _CHANNEL_ID.validate_python(raw)
    except ValidationError as exc:
        errors = [{**error, "loc": ("path", "channel_id")} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


def _handler(scope: Scope, exc: Exception) -> ExceptionHandler | None:
    """The handler the app registered for ``exc``'s class or its nearest base, if any."""
    handlers: dict[Any, ExceptionHandler] = scope["app"].exception_handlers
    for kind in type(exc).__mro__:
        if kind in handlers:
            return handlers[kind]
    return None
