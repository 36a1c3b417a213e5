"""Vonage's SMS API (``/vonage/sms/json``, ``/vonage/account/get-balance``) and its delivery
receipts: form POSTs signed with a ``sig`` (the "md5hash" method) when the sender has a
signing secret."""

from __future__ import annotations

import secrets
import time
import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from herald.providers.vonage.webhooks import signature
from herald.sim.core import Delivery
from herald.sim.state import SenderControl, SimMessage, Verdict, now
from herald.sim.wire.common import down, form_of, json_response, simulator

router = APIRouter(prefix="/vonage", tags=["simulator: vonage"])

FAILURES: dict[Verdict, tuple[str, str]] = {
    Verdict.permanent: ("3", "Invalid to address"),
    Verdict.opted_out: ("7", "Number barred"),
    Verdict.transient: ("5", "Internal Error"),
    Verdict.rate_limited: ("1", "Throughput Rate Exceeded - please wait [ 1000 ] and retry"),
    Verdict.timeout: ("5", "Internal Error"),
}
PRICE = "0.03330000"


def _refused(status: str, text: str) -> Response:
    return json_response(
        {"message-count": "1", "messages": [{"status": status, "error-text": text}]}
    )


@router.post("/sms/json", summary="Send an SMS (Vonage SMS API format)")
async def send(request: Request) -> Response:
    sim = simulator(request)
    form = dict(await form_of(request))
    api_key = form.get("api_key", "")
    if not api_key or not sim.state.authorized(api_key, form.get("api_secret")):
        return _refused("4", "Bad Credentials")
    to, sender, text = form.get("to", ""), form.get("from", ""), form.get("text", "")
    if not to.isdigit() or not sender or not text:
        return _refused("2", "Missing to, from or text")
    verdict = sim.decide(sender)
    await sim.hold(sender, verdict)
    if verdict is Verdict.down:
        return down()
    if verdict in FAILURES:
        return _refused(*FAILURES[verdict])
    message = SimMessage(
        provider="vonage",
        provider_message_id=str(uuid.uuid4()),
        to="+" + to,
        sender=sender,
        body=text,
        created_at=now(),
        reference=form.get("client-ref"),
        account=api_key,
        callback_url=form.get("callback"),
    )
    sim.accept(message, receipt, can_read=False)
    part = {
        "to": to,
        "message-id": message.provider_message_id,
        "status": "0",
        "remaining-balance": "10.00000000",
        "message-price": PRICE,
        "network": "23410",
    }
    if message.reference:
        part["client-ref"] = message.reference
    return json_response({"message-count": "1", "messages": [part]})


@router.get("/account/get-balance", summary="Account balance")
async def balance(request: Request) -> Response:
    query = request.query_params
    api_key = query.get("api_key", "")
    if not api_key or not simulator(request).state.authorized(api_key, query.get("api_secret")):
        return json_response(
            {"error-code": "401", "error-code-label": "authentication failed"}, 401
        )
    return json_response({"value": 10.0, "autoReload": False})


def receipt(message: SimMessage, status: str, control: SenderControl) -> Delivery | None:
    url = message.callback_url or control.callback_url
    if not url or status == "read":
        return None
    wire = {"sent": "accepted", "delivered": "delivered", "undelivered": "failed"}[status]
    code = "0" if wire != "failed" else "5"
    message.error_code = None if code == "0" else code
    params = {
        "msisdn": message.to.lstrip("+"),
        "to": message.sender,
        "network-code": "23410",
        "messageId": message.provider_message_id,
        "price": PRICE,
        "status": wire,
        "scts": now().strftime("%y%m%d%H%M"),
        "err-code": code,
        "api-key": message.account or "",
        "message-timestamp": now().strftime("%Y-%m-%d %H:%M:%S"),
    }
    if message.reference:
        params["client-ref"] = message.reference
    return _signed(url, params, control)


def inbound(control: SenderControl, sender: str, to: str, body: str) -> Delivery | None:
    if not control.callback_url:
        return None
    words = body.split()
    params = {
        "msisdn": sender.lstrip("+"),
        "to": to.lstrip("+"),
        "messageId": str(uuid.uuid4()),
        "text": body,
        "type": "text" if body.isascii() else "unicode",
        "keyword": words[0].upper() if words else "",
        "message-timestamp": now().strftime("%Y-%m-%d %H:%M:%S"),
    }
    return _signed(control.callback_url, params, control)


def _signed(url: str, params: dict[str, str], control: SenderControl) -> Delivery:
    if control.signing_secret:
        params["timestamp"] = str(int(time.time()))
        params["nonce"] = secrets.token_hex(8)
        params["sig"] = signature(control.signing_secret, "md5hash", params.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return Delivery(url, urlencode(params).encode(), headers)
