"""The provider simulator's HTTP app: real wire formats of Twilio, the WhatsApp Cloud API,
Vonage and Mitto, plus its own native format, with per-sender failure controls.

``build_simulator()`` is the app with its routes at its root; the API process mounts it under
``/sim`` (``HERALD_SIM_ENABLED``), and ``create_sim_app()`` serves it alone (``herald sim``).
Its state is in memory: one process, one simulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from herald.kit.errors import NotFound, Unprocessable, install_error_handlers
from herald.sim.core import Simulator
from herald.sim.state import SenderControl
from herald.sim.wire import mitto, native, twilio, vonage, whatsapp
from herald.sim.wire.common import InboundFormat, json_response, simulator

PREFIX = "/sim"
MAX_LIST = 100_000
SimProvider = Literal["simulator", "twilio", "whatsapp", "vonage", "mitto"]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str = Field(min_length=1, max_length=200)


class InboundMessage(BaseModel):
    """A message a subscriber "sends" to one of the tenant's numbers (or WhatsApp phone ids)."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["twilio", "whatsapp", "vonage", "simulator"]
    sender: str = Field(alias="from", min_length=2, max_length=64)
    to: str = Field(min_length=1, max_length=64)
    body: str = Field(min_length=1, max_length=4096)


INBOUND: dict[str, InboundFormat] = {
    "twilio": twilio.inbound,
    "whatsapp": whatsapp.inbound,
    "vonage": vonage.inbound,
    "simulator": native.inbound,
}


class TemplateDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["APPROVED", "REJECTED", "PAUSED", "DISABLED"]
    reason: str | None = Field(default=None, max_length=100)


class TemplateQuality(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: Literal["GREEN", "YELLOW", "RED", "UNKNOWN"]


control = APIRouter(prefix="/control", tags=["simulator: control"])


@control.put("/senders/{sender}", summary="Set a sender's callback and failure controls")
async def put_sender(sender: str, body: SenderControl, request: Request) -> SenderControl:
    simulator(request).state.senders[sender] = body
    return body


@control.get("/senders/{sender}", summary="A sender's controls (defaults when never set)")
async def get_sender(sender: str, request: Request) -> SenderControl:
    return simulator(request).state.control(sender)


@control.delete("/senders/{sender}", status_code=204, summary="Back to the defaults")
async def delete_sender(sender: str, request: Request) -> None:
    simulator(request).state.senders.pop(sender, None)


@control.put(
    "/credentials/{account}",
    status_code=204,
    summary="Insist on one secret for an account (Twilio SID, WhatsApp phone number or WABA "
    "id, Vonage API key, 'mitto', 'native'); by default any non-empty secret passes",
)
async def put_credentials(account: str, body: Credentials, request: Request) -> None:
    simulator(request).state.credentials[account] = body.secret


@control.delete("/credentials/{account}", status_code=204, summary="Accept any secret again")
async def delete_credentials(account: str, request: Request) -> None:
    simulator(request).state.credentials.pop(account, None)


@control.post(
    "/whatsapp/{waba_id}/templates/{template_id}",
    summary="Approve or reject a submitted template; posts message_template_status_update",
)
async def decide_template(
    waba_id: str, template_id: str, body: TemplateDecision, request: Request
) -> dict[str, Any]:
    template = whatsapp.set_template_status(
        simulator(request), waba_id, template_id, body.status, body.reason
    )
    if template is None:
        raise NotFound(f"WABA {waba_id} has no template {template_id}: submit it first")
    return template


@control.post(
    "/whatsapp/{waba_id}/templates/{template_id}/quality",
    summary="Rate a template's quality; posts message_template_quality_update",
)
async def rate_template(
    waba_id: str, template_id: str, body: TemplateQuality, request: Request
) -> dict[str, Any]:
    template = whatsapp.set_template_quality(simulator(request), waba_id, template_id, body.score)
    if template is None:
        raise NotFound(f"WABA {waba_id} has no template {template_id}: submit it first")
    return template


@control.post(
    "/inbound",
    status_code=202,
    summary="Post an inbound message to the callback registered for its 'to' sender",
)
async def post_inbound(body: InboundMessage, request: Request) -> None:
    sim = simulator(request)
    delivery = INBOUND[body.provider](sim.state.control(body.to), body.sender, body.to, body.body)
    if delivery is None:
        raise Unprocessable(
            f"register a callback_url (and signing_secret) for {body.to} with "
            f"PUT /sim/control/senders/{body.to} first"
        )
    sim.courier.spawn(lambda: sim.courier.post_quietly(delivery))


@control.post("/drain", status_code=204, summary="Wait until every pending callback is posted")
async def drain(request: Request) -> None:
    await simulator(request).courier.drain()


messages = APIRouter(tags=["simulator"])


@messages.get("/messages", summary="Accepted messages, newest first")
async def list_messages(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
    to: Annotated[str | None, Query(max_length=64)] = None,
    sender: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    provider: Annotated[SimProvider | None, Query()] = None,
) -> Response:
    found = simulator(request).state.find(to=to, sender=sender, provider=provider)
    items = []
    for message in found:
        items.append(message.public())
        if len(items) >= limit:
            break
    return json_response({"items": items})


@messages.delete("/messages", status_code=204, summary="Forget every message")
async def clear_messages(request: Request) -> None:
    simulator(request).state.clear()


@messages.get("/healthz", summary="The simulator is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@messages.get("/", summary="What this simulator is")
async def info() -> dict[str, Any]:
    return {
        "name": "herald-provider-simulator",
        "providers": list(get_args(SimProvider)),
        "docs": f"{PREFIX}/docs",
    }


def build_simulator(sim: Simulator | None = None) -> FastAPI:
    """The simulator app, routes at its root; close ``app.state.sim`` when done with it."""
    app = FastAPI(title="Herald provider simulator", version="0.2.0", redoc_url=None)
    app.state.sim = sim or Simulator()
    install_error_handlers(app)
    for router in (messages, control, twilio.router, whatsapp.router, vonage.router, mitto.router):
        app.include_router(router)
    app.include_router(native.router)
    return app


def create_sim_app() -> FastAPI:
    """The simulator alone, under ``/sim`` (``herald sim``)."""
    inner = build_simulator()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await inner.state.sim.aclose()

    app = FastAPI(
        title="Herald provider simulator",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.mount(PREFIX, inner)
    return app
