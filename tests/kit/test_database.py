"""The pool pings a connection only when it idled long enough to be suspect."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from herald.kit import database
from herald.kit.database import Database


async def _backend_pid(db: Database) -> int:
    async with db.system_session() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_dead_idle_connection_is_replaced_at_checkout(
    database_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pooled = Database(database_url, pool_size=1)
    try:
        first = await _backend_pid(pooled)
        async with db.system_session() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(database, "SUSPECT_AFTER_IDLE", 0.0)
        second = await _backend_pid(pooled)
    finally:
        await pooled.dispose()
    assert second != first


async def test_a_busy_connection_is_not_pinged(database_url: str) -> None:
    pooled = Database(database_url, pool_size=1)
    try:
        await _backend_pid(pooled)
        pings: list[object] = []
        dialect = pooled.engine.dialect
        original = dialect.do_ping
        dialect.do_ping = lambda conn: pings.append(conn) or original(conn)  # type: ignore[method-assign]
        await _backend_pid(pooled)
    finally:
        await pooled.dispose()
    assert pings == []
