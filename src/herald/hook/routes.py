"""``/v1/hooks/…``: provider callbacks (no API key: the channel in the path and the provider's
signature authenticate them), Meta's handshake and ``GET /v1/hooks/stats`` (Viewer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from herald.auth.dependencies import Viewer
from herald.hook import service
from herald.hook.schemas import HookAnswer, HookStatsList
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.settings import Settings

router = APIRouter(prefix="/v1/hooks", tags=["webhooks"])
callbacks = APIRouter(prefix="/v1/hooks", tags=["webhooks"])
"""The provider callbacks; ``hook.lane`` serves them ahead of FastAPI's routing."""
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
CALLBACK_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The provider's signature is missing or does not match."},
    413: {"description": "The body is larger than any provider's callback (256 KiB)."},
    503: {
        "description": "The callback could not be stored; it is not acknowledged, so the "
        "provider sends it again."
    },
}


async def _body(request: Request) -> bytes:
    """The raw body, refused past ``MAX_BODY`` whether or not a length was declared."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > service.MAX_BODY:
        raise service.too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > service.MAX_BODY:
            raise service.too_large()
        chunks.append(chunk)
    return b"".join(chunks)


FORM = "application/x-www-form-urlencoded"


async def _accept(request: Request, slug: str, channel_id: UUID) -> bool:
    """Store the callback; ``True`` for a replay. The URL checked is the public one. A GET
    callback (Vonage, Mitto) is its query string, stored as a form body."""
    query: bytes = request.scope["query_string"]
    if request.method == "GET":
        payload, content_type = query, FORM
    else:
        payload = await _body(request)
        content_type = request.headers.get("content-type", "application/octet-stream")
    settings: Settings = request.app.state.settings
    url = settings.base_url.rstrip("/") + request.scope["path"]
    if query:
        url += "?" + query.decode("latin-1")
    db: Database = request.app.state.db
    outcome = await service.accept(
        db, slug, channel_id, url, request.headers, payload, content_type, utcnow()
    )
    if outcome is service.Outcome.rejected:
        raise service.rejected(slug)
    return outcome is service.Outcome.duplicate


def _json(duplicate: bool) -> Response:
    return Response(
        HookAnswer(duplicate=duplicate).model_dump_json(), media_type="application/json"
    )


def _twiml(duplicate: bool) -> Response:
    """Twilio wants TwiML: an empty ``<Response>`` sends no reply; a replay says so in a
    header."""
    headers = {"X-Herald-Duplicate": "true"} if duplicate else None
    return Response(TWIML, media_type="text/xml", headers=headers)


@router.get(
    "/whatsapp/{channel_id}",
    response_class=PlainTextResponse,
    summary="Meta's webhook verification handshake",
)
async def whatsapp_handshake(channel_id: UUID, request: Request) -> str:
    db: Database = request.app.state.db
    return await service.handshake(db, channel_id, request.query_params)


Answer = Callable[[bool], Response]
CALLBACKS: list[tuple[str, str, str, Answer]] = [
    ("POST", "/twilio/{channel_id}/status", "Twilio status callback", _twiml),
    ("POST", "/twilio/{channel_id}/inbound", "Twilio incoming message", _twiml),
    ("POST", "/whatsapp/{channel_id}", "WhatsApp Cloud API callback", _json),
    ("GET", "/vonage/{channel_id}", "Vonage delivery receipt or incoming message (GET)", _json),
    ("POST", "/vonage/{channel_id}", "Vonage delivery receipt or incoming message", _json),
    ("GET", "/vonage/{channel_id}/inbound", "Vonage incoming message (GET)", _json),
    ("POST", "/vonage/{channel_id}/inbound", "Vonage incoming message", _json),
    ("GET", "/mitto/{channel_id}", "Mitto delivery report (GET)", _json),
    ("POST", "/mitto/{channel_id}", "Mitto delivery report", _json),
    ("POST", "/simulator/{channel_id}", "Simulator receipt or incoming message", _json),
]
"""Every callback route: method, path (its first segment names the provider), summary, and
how its answer is written."""


def _endpoint(slug: str, answer: Answer) -> Callable[[UUID, Request], Awaitable[Response]]:
    async def callback(channel_id: UUID, request: Request) -> Response:
        return answer(await _accept(request, slug, channel_id))

    return callback


for method, path, summary, answer in CALLBACKS:
    callbacks.add_api_route(
        path,
        _endpoint(path.split("/")[1], answer),
        methods=[method],
        summary=summary,
        response_model=HookAnswer if answer is _json else None,
        responses=CALLBACK_ERRORS,
    )


@router.get("/stats", response_model=HookStatsList, summary="Callbacks per channel")
async def stats(auth: Viewer) -> HookStatsList:
    return HookStatsList(items=await service.stats(auth.session, auth.tenant_id))
