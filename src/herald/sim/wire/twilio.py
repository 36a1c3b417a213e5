"""Twilio's Messages API (``/twilio/2010-04-01/Accounts/{sid}/…``) and its status callbacks,
signed with the Auth Token the message was sent with, as Twilio does."""

from __future__ import annotations

import uuid
from email.utils import format_datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from herald.providers.twilio.webhooks import SIGNATURE_HEADER, signature
from herald.sim.core import Delivery
from herald.sim.state import SenderControl, SimMessage, Verdict, now
from herald.sim.wire.common import basic_auth, down, form_of, json_response, simulator

router = APIRouter(prefix="/twilio/2010-04-01/Accounts", tags=["simulator: twilio"])

FAILURES: dict[Verdict, tuple[int, int, str]] = {
    Verdict.permanent: (400, 21211, "The 'To' number is not a valid phone number."),
    Verdict.opted_out: (400, 21610, "Attempt to send to unsubscribed recipient"),
    Verdict.transient: (500, 20500, "Internal Server Error"),
    Verdict.rate_limited: (429, 20429, "Too Many Requests"),
    Verdict.timeout: (504, 20504, "Gateway Timeout"),
}
UNDELIVERED_CODE = "30003"


def _error(status: int, code: int, message: str) -> Response:
    headers = {"Retry-After": "1"} if status == 429 else None
    body = {"code": code, "message": message, "more_info": "", "status": status}
    return json_response(body, status, headers)


def _unauthorized() -> Response:
    return _error(401, 20003, "Authenticate")


def _resource(message: SimMessage) -> dict[str, object]:
    return {
        "sid": message.provider_message_id,
        "account_sid": message.account,
        "to": message.to,
        "from": message.sender,
        "body": message.body,
        "status": message.status,
        "num_segments": "1",
        "num_media": "0",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "price": None,
        "price_unit": "USD",
        "error_code": int(message.error_code) if message.error_code else None,
        "error_message": None,
        "date_created": format_datetime(message.created_at, usegmt=True),
    }


@router.post("/{account_sid}/Messages.json", summary="Send a message (Twilio format)")
async def send(account_sid: str, request: Request) -> Response:
    sim = simulator(request)
    credentials = basic_auth(request)
    if credentials is None or credentials[0] != account_sid:
        return _unauthorized()
    if not sim.state.authorized(account_sid, credentials[1]):
        return _unauthorized()
    form = dict(reversed(await form_of(request)))
    to, sender = form.get("To", ""), form.get("From") or form.get("MessagingServiceSid", "")
    if not to.removeprefix("whatsapp:").startswith("+"):
        return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not sender or not (form.get("Body") or form.get("MediaUrl")):
        return _error(400, 21602, "Message body or media is required, and a From.")
    verdict = sim.decide(sender)
    await sim.hold(sender, verdict)
    if verdict is Verdict.down:
        return down()
    if verdict in FAILURES:
        return _error(*FAILURES[verdict])
    message = SimMessage(
        provider="twilio",
        provider_message_id=f"SM{uuid.uuid4().hex}",
        to=to,
        sender=sender,
        body=form.get("Body", ""),
        created_at=now(),
        status="queued",
        account=account_sid,
        callback_url=form.get("StatusCallback"),
        signing_secret=credentials[1],
    )
    created = _resource(message)  # as sent: accept() may move the status on at once
    sim.accept(message, receipt, can_read=to.startswith("whatsapp:"))
    return json_response(created, 201)


@router.get("/{account_sid}/Messages/{message_sid}.json", summary="Fetch a message")
async def fetch(account_sid: str, message_sid: str, request: Request) -> Response:
    sim = simulator(request)
    credentials = basic_auth(request)
    if credentials is None or not sim.state.authorized(account_sid, credentials[1]):
        return _unauthorized()
    message = sim.state.by_id.get(message_sid)
    if message is None or message.account != account_sid:
        return _error(404, 20404, f"The requested resource {request.url.path} was not found")
    return json_response(_resource(message))


@router.get("/{account_sid}.json", summary="Fetch the account")
async def account(account_sid: str, request: Request) -> Response:
    credentials = basic_auth(request)
    if credentials is None or credentials[0] != account_sid:
        return _unauthorized()
    if not simulator(request).state.authorized(account_sid, credentials[1]):
        return _unauthorized()
    body = {
        "sid": account_sid,
        "friendly_name": "Simulated account",
        "status": "active",
        "type": "Full",
    }
    return json_response(body)


def receipt(message: SimMessage, status: str, control: SenderControl) -> Delivery | None:
    """Twilio posts to the message's ``StatusCallback`` only."""
    if not message.callback_url or not message.signing_secret:
        return None
    params = [
        ("MessageSid", message.provider_message_id),
        ("SmsSid", message.provider_message_id),
        ("AccountSid", message.account or ""),
        ("From", message.sender),
        ("To", message.to),
        ("MessageStatus", status),
        ("SmsStatus", status),
        ("ApiVersion", "2010-04-01"),
    ]
    if status == "undelivered":
        message.error_code = UNDELIVERED_CODE
        params.append(("ErrorCode", UNDELIVERED_CODE))
    if status in ("delivered", "undelivered"):
        params.append(("RawDlrDoneDate", now().strftime("%y%m%d%H%M")))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        SIGNATURE_HEADER: signature(message.signing_secret, message.callback_url, params),
    }
    return Delivery(message.callback_url, urlencode(params).encode(), headers)


def inbound(control: SenderControl, sender: str, to: str, body: str) -> Delivery | None:
    """An incoming message to ``to``, posted to its callback and signed with its signing secret
    (the Auth Token of the account that number belongs to)."""
    if not control.callback_url or not control.signing_secret:
        return None
    sid = f"SM{uuid.uuid4().hex}"
    params = [
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", "AC" + "0" * 32),
        ("From", sender),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ]
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        SIGNATURE_HEADER: signature(control.signing_secret, control.callback_url, params),
    }
    return Delivery(control.callback_url, urlencode(params).encode(), headers)
