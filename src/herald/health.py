"""Liveness and readiness probes."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers", response_model=None)
async def readyz(request: Request) -> JSONResponse:
    started = time.perf_counter()
    try:
        async with request.app.state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        body = {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__}
        return JSONResponse(body, status_code=503)
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return JSONResponse({"status": "ready", "database": "ok", "database_latency_ms": latency_ms})
