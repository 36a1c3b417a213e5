"""Engine, sessions and tenant scoping.

One transaction per unit of work. ``tenant_session`` opens a transaction that runs as the
unprivileged ``herald_app`` role with ``herald.tenant_id`` set, so row-level security confines
every statement to that tenant even if a query forgets its ``WHERE tenant_id = …``.
``system_session`` runs as the owner: for sign-in lookups and cross-tenant background work only.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Text, cast, event, exc, func, literal, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import QueryableAttribute

from herald.kit.embedded import is_running, start_embedded, stop_embedded
from herald.kit.rls import APP_ROLE, TENANT_SETTING
from herald.settings import Settings


def normalize_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured URL; or the embedded server's, started if needed and then stopped again by
    whoever started it (a CLI command run while ``herald up`` serves attaches and leaves it be)."""
    if settings.database_url:
        yield normalize_url(settings.database_url)
        return
    started_here = not is_running(settings.data_dir)
    url = start_embedded(settings.data_dir)
    try:
        yield url
    finally:
        if started_here:
            stop_embedded(settings.data_dir)


SUSPECT_AFTER_IDLE = 30.0
"""Seconds a pooled connection may sit unused before it is pinged at checkout: a busy pool
pays no ping, while one that idled (a restarted server, a dropped socket) is checked first."""


class Database:
    """Owns the engine and the session factory of one process."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size
        )
        _ping_when_suspect(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def system_session(self) -> AsyncIterator[AsyncSession]:
        """A transaction as the owner role: commits on success, rolls back on error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def tenant_session(self, tenant_id: UUID) -> AsyncIterator[AsyncSession]:
        """A transaction confined to one tenant by row-level security."""
        async with self.sessionmaker() as session, session.begin():
            await scope_to_tenant(session, tenant_id)
            yield session


def _ping_when_suspect(engine: AsyncEngine) -> None:
    """Ping a connection at checkout only when it idled longer than ``SUSPECT_AFTER_IDLE``;
    a failed ping makes the pool replace it (``DisconnectionError``)."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < SUSPECT_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except Exception as error:  # whatever the driver raises, the connection is unusable
            raise exc.DisconnectionError("the pooled connection did not answer a ping") from error


def scope_columns(
    tenant_id: UUID | ColumnElement[Any] | QueryableAttribute[Any],
) -> tuple[ColumnElement[Any], ...]:
    """Select these to switch the current transaction to the app role and one tenant (both
    reset at its end). The request path adds them to the statement that authenticates the
    caller, so scoping costs no round trip of its own."""
    tenant = literal(str(tenant_id)) if isinstance(tenant_id, UUID) else cast(tenant_id, Text)
    return (
        func.set_config(TENANT_SETTING, tenant, True),
        func.set_config("role", APP_ROLE, True),
    )


async def scope_to_tenant(session: AsyncSession, tenant_id: UUID) -> None:
    """Switch the current transaction to the app role and one tenant (both reset at its end)."""
    await session.execute(select(*scope_columns(tenant_id)))
