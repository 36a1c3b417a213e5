"""Every HTTP router of the API, in one explicit list (no registration by import side effect)."""

from __future__ import annotations

from fastapi import APIRouter

from herald import health
from herald.auth import routes as auth_routes
from herald.tenant import routes as tenant_routes

ROUTERS: list[APIRouter] = [
    health.router,
    tenant_routes.router,
    auth_routes.api_keys,
]
