"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from herald.kit.database import Database, database_url
from herald.kit.errors import install_error_handlers
from herald.routers import ROUTERS
from herald.settings import Settings, get_settings


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the API. Pass ``db`` to share an engine (tests); otherwise one is made at startup."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if db is not None:
            yield
            return
        with database_url(settings) as url:
            app.state.db = Database(url, pool_size=settings.db_pool_size)
            try:
                yield
            finally:
                await app.state.db.dispose()

    app = FastAPI(
        title="Herald",
        summary="Multi-tenant SMS and WhatsApp messaging",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    if db is not None:
        app.state.db = db
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
