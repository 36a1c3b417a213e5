"""The simulator's own format (``/native/…``), spoken by ``herald.providers.simulator``; see
``herald.providers.simulator.wire`` for the contract."""

from __future__ import annotations

import uuid

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from herald.providers.signing import SIM_SIGNATURE_HEADER, sign_sim
from herald.providers.simulator.wire import ACCOUNT_PATH, MESSAGES_PATH
from herald.sim.core import Delivery
from herald.sim.state import SenderControl, SimMessage, Verdict, now
from herald.sim.wire.common import bearer, json_of, json_response, simulator

router = APIRouter(tags=["simulator: native"])

ACCOUNT = "native"
FAILURES: dict[Verdict, tuple[int, str, str]] = {
    Verdict.permanent: (400, "invalid_number", "the recipient number does not exist"),
    Verdict.opted_out: (400, "opted_out", "the recipient opted out"),
    Verdict.transient: (500, "temporary_failure", "try again later"),
    Verdict.rate_limited: (429, "rate_limited", "slow down"),
    Verdict.down: (503, "unavailable", "the provider is down"),
    Verdict.timeout: (504, "unavailable", "the provider did not answer"),
}


def _error(status: int, code: str, message: str) -> Response:
    headers = {"Retry-After": "1"} if status == 429 else None
    return json_response({"error": {"code": code, "message": message}}, status, headers)


def _unauthorized(request: Request) -> Response | None:
    if simulator(request).state.authorized(ACCOUNT, bearer(request)):
        return None
    return _error(401, "unauthorized", "send Authorization: Bearer <api key>")


@router.post(MESSAGES_PATH, summary="Send a message (simulator format)")
async def send(request: Request) -> Response:
    sim = simulator(request)
    if refused := _unauthorized(request):
        return refused
    body = await json_of(request)
    if body is None or not str(body.get("to", "")).startswith("+") or not body.get("from"):
        return _error(400, "invalid_request", "send JSON with to (E.164), from and body")
    sender = str(body["from"])
    verdict = sim.decide(sender)
    await sim.hold(sender, verdict)
    if verdict in FAILURES:
        return _error(*FAILURES[verdict])
    message = SimMessage(
        provider="simulator",
        provider_message_id=f"sim_{uuid.uuid4().hex}",
        to=str(body["to"]),
        sender=sender,
        body=str(body.get("body") or ""),
        created_at=now(),
        status="queued",
        reference=body.get("reference"),
        callback_url=body.get("callback_url"),
    )
    sim.accept(message, receipt, can_read=True)
    return json_response(
        {"id": message.provider_message_id, "status": "queued", "segments": 1}, 201
    )


@router.get(MESSAGES_PATH + "/{message_id}", summary="Look a message up")
async def fetch(message_id: str, request: Request) -> Response:
    if refused := _unauthorized(request):
        return refused
    message = simulator(request).state.by_id.get(message_id)
    if message is None or message.provider != "simulator":
        return _error(404, "not_found", f"no message {message_id}")
    return json_response(
        {
            "id": message.provider_message_id,
            "message_id": message.provider_message_id,
            "status": message.status,
            "error_code": message.error_code,
            "reference": message.reference,
        }
    )


@router.get(ACCOUNT_PATH, summary="Check credentials")
async def account(request: Request) -> Response:
    if refused := _unauthorized(request):
        return refused
    return json_response({"status": "active"})


def receipt(message: SimMessage, status: str, control: SenderControl) -> Delivery | None:
    url = message.callback_url or control.callback_url
    if not url:
        return None
    if status == "undelivered":
        message.error_code = "unreachable"
    payload = {
        "type": "receipt",
        "event_id": f"{message.provider_message_id}:{status}",
        "message_id": message.provider_message_id,
        "status": status,
        "error_code": message.error_code if status == "undelivered" else None,
        "reference": message.reference,
        "timestamp": now().isoformat(),
    }
    return _signed(url, orjson.dumps(payload), control)


def inbound(control: SenderControl, sender: str, to: str, body: str) -> Delivery | None:
    if not control.callback_url:
        return None
    message_id = f"sim_{uuid.uuid4().hex}"
    payload = {
        "type": "inbound",
        "id": message_id,
        "from": sender,
        "to": to,
        "body": body,
        "timestamp": now().isoformat(),
    }
    return _signed(control.callback_url, orjson.dumps(payload), control)


def _signed(url: str, raw: bytes, control: SenderControl) -> Delivery:
    headers = {"Content-Type": "application/json"}
    if control.signing_secret:
        headers[SIM_SIGNATURE_HEADER] = sign_sim(control.signing_secret, raw)
    return Delivery(url, raw, headers)
