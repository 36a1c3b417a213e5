"""``/v1/hooks/…``: provider callbacks (no API key: the channel in the path and the provider's
signature authenticate them) and ``GET /v1/hooks/stats`` (Viewer)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from herald.auth.dependencies import Viewer, get_app_settings
from herald.hook import service
from herald.hook.schemas import HookAnswer, HookStatsList
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.settings import Settings

router = APIRouter(prefix="/v1/hooks", tags=["webhooks"])
AppSettings = Annotated[Settings, Depends(get_app_settings)]
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
NOT_STORED: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "The callback could not be stored; it is not acknowledged, so the "
        "provider sends it again."
    }
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


async def _accept(request: Request, slug: str, channel_id: UUID, settings: Settings) -> bool:
    """Store the callback; ``True`` for a replay. The URL checked is the public one. A GET
    callback (Vonage, Mitto) is its query string, stored as a form body."""
    if request.method == "GET":
        payload, content_type = request.url.query.encode(), FORM
    else:
        payload = await _body(request)
        content_type = request.headers.get("content-type", "application/octet-stream")
    url = settings.base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    db: Database = request.app.state.db
    outcome = await service.accept(
        db, slug, channel_id, url, request.headers, payload, content_type, utcnow()
    )
    if outcome is service.Outcome.rejected:
        raise service.rejected(slug)
    return outcome is service.Outcome.duplicate


def _json(duplicate: bool) -> HookAnswer:
    return HookAnswer(duplicate=duplicate)


def _twiml(duplicate: bool) -> Response:
    """Twilio wants TwiML: an empty ``<Response>`` sends no reply; a replay says so in a
    header."""
    headers = {"X-Herald-Duplicate": "true"} if duplicate else None
    return Response(TWIML, media_type="text/xml", headers=headers)


@router.post("/twilio/{channel_id}/status", summary="Twilio status callback", responses=NOT_STORED)
async def twilio_status(channel_id: UUID, request: Request, settings: AppSettings) -> Response:
    return _twiml(await _accept(request, "twilio", channel_id, settings))


@router.post(
    "/twilio/{channel_id}/inbound", summary="Twilio incoming message", responses=NOT_STORED
)
async def twilio_inbound(channel_id: UUID, request: Request, settings: AppSettings) -> Response:
    return _twiml(await _accept(request, "twilio", channel_id, settings))


@router.get(
    "/whatsapp/{channel_id}",
    response_class=PlainTextResponse,
    summary="Meta's webhook verification handshake",
)
async def whatsapp_handshake(channel_id: UUID, request: Request) -> str:
    db: Database = request.app.state.db
    return await service.handshake(db, channel_id, request.query_params)


@router.post("/whatsapp/{channel_id}", summary="WhatsApp Cloud API callback", responses=NOT_STORED)
async def whatsapp(channel_id: UUID, request: Request, settings: AppSettings) -> HookAnswer:
    return _json(await _accept(request, "whatsapp", channel_id, settings))


@router.get(
    "/vonage/{channel_id}",
    summary="Vonage delivery receipt or incoming message (GET)",
    responses=NOT_STORED,
)
@router.post(
    "/vonage/{channel_id}",
    summary="Vonage delivery receipt or incoming message",
    responses=NOT_STORED,
)
async def vonage(channel_id: UUID, request: Request, settings: AppSettings) -> HookAnswer:
    return _json(await _accept(request, "vonage", channel_id, settings))


@router.get(
    "/vonage/{channel_id}/inbound", summary="Vonage incoming message (GET)", responses=NOT_STORED
)
@router.post(
    "/vonage/{channel_id}/inbound", summary="Vonage incoming message", responses=NOT_STORED
)
async def vonage_inbound(channel_id: UUID, request: Request, settings: AppSettings) -> HookAnswer:
    return _json(await _accept(request, "vonage", channel_id, settings))


@router.get("/mitto/{channel_id}", summary="Mitto delivery report (GET)", responses=NOT_STORED)
@router.post("/mitto/{channel_id}", summary="Mitto delivery report", responses=NOT_STORED)
async def mitto(channel_id: UUID, request: Request, settings: AppSettings) -> HookAnswer:
    return _json(await _accept(request, "mitto", channel_id, settings))


@router.post(
    "/simulator/{channel_id}", summary="Simulator receipt or incoming message", responses=NOT_STORED
)
async def simulator(channel_id: UUID, request: Request, settings: AppSettings) -> HookAnswer:
    return _json(await _accept(request, "simulator", channel_id, settings))


@router.get("/stats", response_model=HookStatsList, summary="Callbacks per channel")
async def stats(auth: Viewer) -> HookStatsList:
    return HookStatsList(items=await service.stats(auth.session, auth.tenant_id))
