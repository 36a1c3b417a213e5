"""Helpers the wire modules share: reading requests quickly and answering JSON."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from herald.providers.signing import form_pairs
from herald.sim.core import Delivery, Simulator
from herald.sim.state import SenderControl

InboundFormat = Callable[[SenderControl, str, str, str], Delivery | None]
"""Builds the callback for a message from a subscriber (sender, to, body) in a wire format."""


def simulator(request: Request) -> Simulator:
    sim: Simulator = request.app.state.sim
    return sim


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


async def form_of(request: Request) -> list[tuple[str, str]]:
    return form_pairs(await request.body())


async def json_of(request: Request) -> dict[str, Any] | None:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def basic_auth(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def down() -> Response:
    return Response("Service Unavailable", 503, media_type="text/plain")
