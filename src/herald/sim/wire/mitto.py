"""Mitto's SMS API (``/mitto/sms``, ``X-Mitto-API-Key``) and delivery reports: JSON POSTs
with the default field names of ``MittoDlrFields``, to the message's ``callback`` or the
sender's callback URL (which carries Herald's secret token), plus ``X-Sim-Signature`` when
the sender has a signing secret."""

from __future__ import annotations

import uuid

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from herald.providers.signing import SIM_SIGNATURE_HEADER, sign_sim
from herald.sim.core import Delivery
from herald.sim.state import SenderControl, SimMessage, Verdict, now
from herald.sim.wire.common import down, json_of, json_response, simulator

router = APIRouter(prefix="/mitto", tags=["simulator: mitto"])

ACCOUNT = "mitto"
"""Mitto identifies the account by its API key alone: credentials are set for this name."""

FAILURES: dict[Verdict, tuple[int, str]] = {
    Verdict.permanent: (8, "Invalid receiver"),
    Verdict.opted_out: (8, "Invalid receiver"),
    Verdict.transient: (1, "Internal error"),
}
WIRE_STATUSES = {"sent": "Sent", "delivered": "Delivered", "undelivered": "Undelivered"}


def _answer(message_id: str | None, to: str, code: int, text: str) -> Response:
    body = {
        "id": message_id,
        "timestamp": now().isoformat(),
        "to": to,
        "responseCode": code,
        "textLength": 0,
        "responseText": text,
    }
    return json_response(body)


@router.post("/sms", summary="Send an SMS (Mitto format)")
async def send(request: Request) -> Response:
    sim = simulator(request)
    if not sim.state.authorized(ACCOUNT, request.headers.get("X-Mitto-API-Key")):
        return json_response({"error": "Unauthorized"}, 401)
    body = await json_of(request)
    if body is None:
        return json_response({"error": "send a JSON object"}, 400)
    to, sender, text = str(body.get("to", "")), str(body.get("from", "")), body.get("text")
    if not sender:
        return _answer(None, to, 5, "Empty sender")
    if not to.isdigit():
        return _answer(None, to, 7 if not to else 8, "Invalid receiver")
    if not text:
        return _answer(None, to, 3, "Empty message")
    if body.get("test") is True:
        return json_response({"test": True, "to": to, "responseCode": 0, "responseText": "Sent"})
    verdict = sim.decide(sender)
    await sim.hold(sender, verdict)
    if verdict is Verdict.down or verdict is Verdict.timeout:
        return down()
    if verdict is Verdict.rate_limited:
        return json_response({"error": "Too Many Requests"}, 429, {"Retry-After": "1"})
    if verdict in FAILURES:
        return _answer(None, to, *FAILURES[verdict])
    message = SimMessage(
        provider="mitto",
        provider_message_id=str(uuid.uuid4()),
        to="+" + to,
        sender=sender,
        body=str(text),
        created_at=now(),
        reference=body.get("reference"),
        callback_url=body.get("callback"),
    )
    sim.accept(message, receipt, can_read=False)
    return _answer(message.provider_message_id, to, 0, "Sent")


def receipt(message: SimMessage, status: str, control: SenderControl) -> Delivery | None:
    url = message.callback_url or control.callback_url
    if not url or status not in WIRE_STATUSES:
        return None
    payload = {
        "id": message.provider_message_id,
        "status": WIRE_STATUSES[status],
        "reference": message.reference,
        "errorCode": "0" if status != "undelivered" else "1",
        "timestamp": now().isoformat(),
        "to": message.to.lstrip("+"),
    }
    raw = orjson.dumps(payload)
    headers = {"Content-Type": "application/json"}
    if control.signing_secret:
        headers[SIM_SIGNATURE_HEADER] = sign_sim(control.signing_secret, raw)
    return Delivery(url, raw, headers)
