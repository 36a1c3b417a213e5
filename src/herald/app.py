"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from herald.audit.service import install_audit_listener
from herald.hook import routes as hook_routes
from herald.hook.lane import CallbackLane
from herald.kit.collector import tune_process_for_serving
from herald.kit.crypto import configure_keyring, load_keyring
from herald.kit.database import Database, database_url
from herald.kit.errors import install_error_handlers
from herald.kit.limits import BodyLimitMiddleware, BodyLimits
from herald.kit.mailer import build_mailer
from herald.kit.observability import (
    Metrics,
    RequestContextMiddleware,
    configure_logging,
    metrics_endpoint,
)
from herald.kit.openapi import install_openapi
from herald.kit.proxy import TrustedProxyMiddleware
from herald.routers import ROUTERS
from herald.settings import Settings, get_settings
from herald.sim.app import PREFIX as SIM_PREFIX
from herald.sim.app import build_simulator
from herald.worker import build_task_app


@asynccontextmanager
async def open_tasks(app: FastAPI, url: str) -> AsyncIterator[None]:
    """Open the task app for the app's lifetime as ``app.state.tasks``, so routes can defer."""
    tasks = build_task_app(url)
    async with tasks.open_async():
        app.state.tasks = tasks
        yield


def create_server_app() -> FastAPI:
    """The API as ``herald api`` serves it: a process of its own, whose collector is tuned
    for serving once the app has started (``kit.collector``)."""
    return create_app(serving=True)


def create_app(
    settings: Settings | None = None, db: Database | None = None, *, serving: bool = False
) -> FastAPI:
    """Build the API. Pass ``db`` to share an engine (tests); otherwise one is made at startup.
    ``serving``: the app is its process's only work (see ``create_server_app``)."""
    settings = settings or get_settings()

    sim = build_simulator() if settings.sim_enabled else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _simulator_closed(sim), _database(app):
            if serving:
                tune_process_for_serving()
            yield

    @asynccontextmanager
    async def _database(app: FastAPI) -> AsyncIterator[None]:
        if db is not None:
            async with open_tasks(app, db.url):
                yield
            return
        with database_url(settings) as url:
            app.state.db = Database(url, pool_size=settings.db_pool_size)
            try:
                async with open_tasks(app, url):
                    yield
            finally:
                await app.state.db.dispose()

    app = FastAPI(
        title="Herald",
        summary="Multi-tenant SMS and WhatsApp messaging",
        version="0.1.0",
        lifespan=lifespan,
        # Herald's own Prometheus metrics and logs describe each request; FastAPI's
        # OpenTelemetry hooks would only look for a provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.mailer = build_mailer(settings)
    if db is not None:
        app.state.db = db
    install_error_handlers(app)
    install_openapi(app)
    configure_logging(settings)
    configure_keyring(load_keyring(settings))
    install_audit_listener()
    app.state.metrics = Metrics()
    # The last added runs first: request id and logging around everything, then the real
    # client, then the body limit before any route reads a byte, then provider callbacks.
    app.add_middleware(CallbackLane, routes=hook_routes.callbacks.routes)
    app.add_middleware(
        BodyLimitMiddleware, limits=BodyLimits(settings.max_body_bytes, settings.body_limits)
    )
    app.add_middleware(TrustedProxyMiddleware, proxies=settings.trusted_proxies)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)
    if sim is not None:
        # Before the API's routers: a provider call to the simulator is matched by its prefix
        # at once instead of after every route of the API (a tenth of a millisecond a send).
        app.mount(SIM_PREFIX, sim)
    for router in ROUTERS:
        app.include_router(router)
    return app


@asynccontextmanager
async def _simulator_closed(sim: FastAPI | None) -> AsyncIterator[None]:
    """A mounted app gets no lifespan of its own: the API closes the simulator's session."""
    try:
        yield
    finally:
        if sim is not None:
            await sim.state.sim.aclose()
