"""The provider simulator's HTTP app, served by ``herald sim`` under ``/sim``.

For now it is an honest stub: it answers health checks and says which wire formats it is
meant to speak. It accepts no messages yet, so nothing can mistake it for a working provider.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

PREFIX = "/sim"

PLANNED_PROVIDERS: tuple[str, ...] = ("twilio", "whatsapp_cloud", "mitto")
"""Providers whose wire formats the simulator will speak (Twilio, WhatsApp Cloud API, Mitto)."""


class SimulatorInfo(BaseModel):
    name: str
    status: str
    description: str
    planned_providers: list[str]
    accepts_messages: bool


router = APIRouter(prefix=PREFIX, tags=["simulator"])


@router.get("/healthz", summary="The simulator process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("", response_model=SimulatorInfo, summary="What this simulator is")
async def info() -> SimulatorInfo:
    return SimulatorInfo(
        name="herald-provider-simulator",
        status="stub",
        description=(
            "A local stand-in for messaging providers. This build only answers health checks; "
            "the provider endpoints are not implemented yet and no message is accepted."
        ),
        planned_providers=list(PLANNED_PROVIDERS),
        accepts_messages=False,
    )


def create_sim_app() -> FastAPI:
    app = FastAPI(
        title="Herald provider simulator",
        version="0.1.0",
        docs_url=f"{PREFIX}/docs",
        openapi_url=f"{PREFIX}/openapi.json",
        redoc_url=None,
    )
    app.include_router(router)
    return app
