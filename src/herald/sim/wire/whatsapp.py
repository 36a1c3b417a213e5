"""The WhatsApp Cloud API (``/whatsapp/{version}/…``): messages, the phone number, message
templates, and the ``whatsapp_business_account`` webhooks, signed with ``X-Hub-Signature-256``
using the sender's registered signing secret (the app secret)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from herald.providers.whatsapp_cloud.webhooks import SIGNATURE_HEADER, sign
from herald.sim.core import Delivery, Simulator
from herald.sim.state import SenderControl, SimMessage, Verdict, now
from herald.sim.wire.common import bearer, down, json_of, json_response, simulator

router = APIRouter(prefix="/whatsapp/{version}", tags=["simulator: whatsapp"])

FAILURES: dict[Verdict, tuple[int, int, str]] = {
    Verdict.permanent: (400, 131026, "Message undeliverable"),
    Verdict.opted_out: (400, 131050, "User has stopped marketing messages"),
    Verdict.transient: (500, 131000, "Something went wrong"),
    Verdict.rate_limited: (400, 130429, "Rate limit hit"),
    Verdict.timeout: (504, 131000, "Something went wrong"),
}
UNDELIVERED = (131026, "Message undeliverable")
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
CATEGORIES = frozenset({"MARKETING", "UTILITY", "AUTHENTICATION"})
TEMPLATE_STATUSES = frozenset({"APPROVED", "REJECTED", "PAUSED", "DISABLED", "PENDING"})
_template_ids = itertools.count(1_000_000_000_000)
_media_ids = itertools.count(2_000_000_000_000)
MAX_MEDIA_BYTES = 16 * 1024 * 1024


def graph_error(status: int, code: int, message: str, subcode: int | None = None) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message},
        "fbtrace_id": secrets.token_urlsafe(12),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    headers = {"Retry-After": "1"} if code == 130429 else None
    return json_response({"error": error}, status, headers)


def _unauthorized() -> Response:
    return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")


def _authorized(sim: Simulator, account: str, request: Request) -> bool:
    return sim.state.authorized(account, bearer(request))


def _wamid() -> str:
    return "wamid." + base64.b64encode(secrets.token_bytes(30)).decode()


def _text_of(body: dict[str, Any]) -> str | None:
    kind = body.get("type")
    if kind == "text":
        return str((body.get("text") or {}).get("body") or "") or None
    if kind == "template":
        template = body.get("template") or {}
        return f"[template {template.get('name')}]" if template.get("name") else None
    if kind in ("image", "video", "audio", "document"):
        item = body.get(kind) or {}
        return (
            str(item.get("caption") or f"[{kind}]") if item.get("link") or item.get("id") else None
        )
    return None


@router.post("/{phone_number_id}/messages", summary="Send a message (Cloud API format)")
async def send(version: str, phone_number_id: str, request: Request) -> Response:
    sim = simulator(request)
    if not _authorized(sim, phone_number_id, request):
        return _unauthorized()
    body = await json_of(request)
    if body is None or body.get("messaging_product") != "whatsapp" or not body.get("to"):
        return graph_error(400, 100, "Invalid parameter: messaging_product and to are required")
    text = _text_of(body)
    if text is None:
        return graph_error(400, 131008, "Required parameter is missing")
    verdict = sim.decide(phone_number_id)
    await sim.hold(phone_number_id, verdict)
    if verdict is Verdict.down:
        return down()
    if verdict in FAILURES:
        return graph_error(*FAILURES[verdict])
    wa_id = str(body["to"]).lstrip("+")
    message = SimMessage(
        provider="whatsapp",
        provider_message_id=_wamid(),
        to="+" + wa_id,
        sender=phone_number_id,
        body=text,
        created_at=now(),
        reference=body.get("biz_opaque_callback_data"),
    )
    sim.accept(message, receipt, can_read=True)
    return json_response(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": wa_id}],
            "messages": [{"id": message.provider_message_id, "message_status": "accepted"}],
        }
    )


@router.post("/{phone_number_id}/media", summary="Upload a media (multipart: file, type)")
async def upload_media(version: str, phone_number_id: str, request: Request) -> Response:
    sim = simulator(request)
    if not _authorized(sim, phone_number_id, request):
        return _unauthorized()
    form = await request.form()
    upload = form.get("file")
    if form.get("messaging_product") != "whatsapp" or not isinstance(upload, UploadFile):
        return graph_error(400, 100, "Invalid parameter: messaging_product and file are required")
    data = await upload.read(MAX_MEDIA_BYTES + 1)
    if len(data) > MAX_MEDIA_BYTES:
        return graph_error(400, 131052, "Media upload error: the file is too large")
    media_id = str(next(_media_ids))
    mime = str(form.get("type") or upload.content_type or "application/octet-stream")
    sim.state.media[media_id] = (mime, data)
    return json_response({"id": media_id})


@router.get("/media/{media_id}/download", name="whatsapp_media_download", summary="Media bytes")
async def media_bytes(version: str, media_id: str, request: Request) -> Response:
    """The URL ``GET /{media-id}`` hands out; like Meta's, it wants the bearer token."""
    sim = simulator(request)
    found = sim.state.media.get(media_id)
    if not bearer(request):
        return _unauthorized()
    if found is None:
        return graph_error(404, 100, "Media not found")
    return Response(content=found[1], media_type=found[0])


def _media_info(request: Request, version: str, media_id: str) -> Response:
    mime, data = simulator(request).state.media[media_id]
    url = request.url_for("whatsapp_media_download", version=version, media_id=media_id)
    return json_response(
        {
            "messaging_product": "whatsapp",
            "url": str(url),
            "mime_type": mime,
            "sha256": hashlib.sha256(data).hexdigest(),
            "file_size": len(data),
            "id": media_id,
        }
    )


@router.get("/{object_id}", summary="Fetch a phone number, or a media's download URL")
async def phone_number(version: str, object_id: str, request: Request) -> Response:
    """Graph ids share one namespace: an uploaded media's id answers its URL (any valid token
    may read it), any other id is taken for a phone number id."""
    sim = simulator(request)
    if object_id in sim.state.media:
        if not bearer(request):
            return _unauthorized()
        return _media_info(request, version, object_id)
    phone_number_id = object_id
    if not _authorized(sim, phone_number_id, request):
        return _unauthorized()
    return json_response(
        {
            "id": phone_number_id,
            "display_phone_number": "+1 555-0100",
            "verified_name": "Herald Simulator",
            "quality_rating": "GREEN",
        }
    )


@router.post("/{waba_id}/message_templates", summary="Submit a template")
async def create_template(version: str, waba_id: str, request: Request) -> Response:
    sim = simulator(request)
    if not _authorized(sim, waba_id, request):
        return _unauthorized()
    body = await json_of(request)
    problem = _template_problem(body)
    if problem or body is None:
        return graph_error(400, 100, f"Invalid parameter: {problem}")
    templates = sim.state.templates.setdefault(waba_id, {})
    if any(
        t["name"] == body["name"] and t["language"] == body["language"] for t in templates.values()
    ):
        return graph_error(400, 100, "Content in this language already exists", 2388024)
    template_id = str(next(_template_ids))
    templates[template_id] = {
        "id": template_id,
        "name": body["name"],
        "language": body["language"],
        "category": body["category"],
        "components": body["components"],
        "parameter_format": body.get("parameter_format", "POSITIONAL"),
        "status": "PENDING",
        "quality_score": {"score": "UNKNOWN"},
        "rejected_reason": "NONE",
    }
    return json_response({"id": template_id, "status": "PENDING", "category": body["category"]})


def _template_problem(body: dict[str, Any] | None) -> str | None:
    if body is None:
        return "send a JSON object"
    if not TEMPLATE_NAME.match(str(body.get("name", ""))):
        return "name must be lowercase letters, digits and _ (at most 512)"
    if not isinstance(body.get("language"), str) or not body["language"]:
        return "language is required"
    if body.get("category") not in CATEGORIES:
        return f"category must be one of {', '.join(sorted(CATEGORIES))}"
    components = body.get("components")
    if not isinstance(components, list) or not any(
        isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY" for c in components
    ):
        return "components must include a BODY"
    return None


@router.get("/{waba_id}/message_templates", summary="List templates")
async def list_templates(version: str, waba_id: str, request: Request) -> Response:
    sim = simulator(request)
    if not _authorized(sim, waba_id, request):
        return _unauthorized()
    query = request.query_params
    items = [
        template
        for template in sim.state.templates.get(waba_id, {}).values()
        if all(
            query.get(key) in (None, template[key])
            for key in ("name", "status", "category", "language")
        )
    ]
    after = query.get("after")
    if after:
        items = [template for template in items if template["id"] > after]
    limit = int(query.get("limit", "25")) if query.get("limit", "25").isdigit() else 25
    page = items[:limit]
    cursors = {"before": page[0]["id"], "after": page[-1]["id"]} if page else {}
    return json_response({"data": page, "paging": {"cursors": cursors}})


def set_template_status(
    sim: Simulator, waba_id: str, template_id: str, status: str, reason: str | None
) -> dict[str, Any] | None:
    """The control call behind approval or rejection; posts the status-update webhook."""
    template = sim.state.templates.get(waba_id, {}).get(template_id)
    if template is None:
        return None
    template["status"] = status
    template["rejected_reason"] = reason or "NONE"
    control = sim.state.control(waba_id)
    if control.callback_url:
        value = {
            "event": status,
            "message_template_id": int(template_id),
            "message_template_name": template["name"],
            "message_template_language": template["language"],
            "message_template_category": template["category"],
            "reason": reason or "NONE",
        }
        delivery = _envelope(waba_id, "message_template_status_update", value, control)
        if delivery is not None:
            sim.courier.spawn(lambda: sim.courier.post_quietly(delivery))
    return template


def set_template_quality(
    sim: Simulator, waba_id: str, template_id: str, score: str
) -> dict[str, Any] | None:
    """The control call that rates a template as Meta does from recipients' reactions;
    posts the quality-update webhook."""
    template = sim.state.templates.get(waba_id, {}).get(template_id)
    if template is None:
        return None
    previous = (template.get("quality_score") or {}).get("score", "UNKNOWN")
    template["quality_score"] = {"score": score}
    value = {
        "previous_quality_score": previous,
        "new_quality_score": score,
        "message_template_id": int(template_id),
        "message_template_name": template["name"],
        "message_template_language": template["language"],
    }
    control = sim.state.control(waba_id)
    delivery = _envelope(waba_id, "message_template_quality_update", value, control)
    if delivery is not None:
        sim.courier.spawn(lambda: sim.courier.post_quietly(delivery))
    return template


def _envelope(
    entry_id: str, field: str, value: dict[str, Any], control: SenderControl
) -> Delivery | None:
    if not control.callback_url:
        return None
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": entry_id, "changes": [{"field": field, "value": value}]}],
    }
    raw = orjson.dumps(payload)
    headers = {"Content-Type": "application/json"}
    if control.signing_secret:
        headers[SIGNATURE_HEADER] = sign(control.signing_secret, raw)
    return Delivery(control.callback_url, raw, headers)


def receipt(message: SimMessage, status: str, control: SenderControl) -> Delivery | None:
    wire_status = "failed" if status == "undelivered" else status
    item: dict[str, Any] = {
        "id": message.provider_message_id,
        "status": wire_status,
        "timestamp": str(int(now().timestamp())),
        "recipient_id": message.to.lstrip("+"),
    }
    if message.reference:
        item["biz_opaque_callback_data"] = message.reference
    if wire_status == "failed":
        code, title = UNDELIVERED
        message.error_code = str(code)
        item["errors"] = [
            {"code": code, "title": title, "message": title, "error_data": {"details": title}}
        ]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": message.sender},
        "statuses": [item],
    }
    return _envelope(message.sender, "messages", value, control)


def inbound(control: SenderControl, sender: str, to: str, body: str) -> Delivery | None:
    """A text from ``sender`` to the phone number id ``to``."""
    wa_id = sender.lstrip("+")
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": to},
        "contacts": [{"profile": {"name": "Simulated user"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": _wamid(),
                "timestamp": str(int(now().timestamp())),
                "type": "text",
                "text": {"body": body},
            }
        ],
    }
    return _envelope(to, "messages", value, control)
