"""Shared steps of the link tests: making links, expiring them, counting statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import event, update

from herald.kit.database import Database
from herald.link.models import ShortLink
from tests.conftest import TenantFixture

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


async def make_link(
    client: httpx.AsyncClient, tenant: TenantFixture, **body: Any
) -> dict[str, Any]:
    body.setdefault("target_url", "https://shop.example/sale")
    response = await client.post("/v1/links", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def read_link(
    client: httpx.AsyncClient, tenant: TenantFixture, link_id: str
) -> dict[str, Any]:
    response = await client.get(f"/v1/links/{link_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def expire(db: Database, link_id: str) -> None:
    async with db.system_session() as session:
        await session.execute(
            update(ShortLink)
            .where(ShortLink.id == UUID(link_id))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def set_tenant_settings(
    client: httpx.AsyncClient, tenant: TenantFixture, **settings: Any
) -> None:
    response = await client.patch("/v1/tenant", json={"settings": settings}, headers=tenant.headers)
    assert response.status_code == 200, response.text


@dataclass
class Statements:
    """What reached the database while counting: SQL statements and pool checkouts."""

    sql: list[str] = field(default_factory=list)
    checkouts: int = 0


@contextmanager
def counting(db: Database) -> Iterator[Statements]:
    seen = Statements()

    def on_execute(*args: Any) -> None:
        seen.sql.append(args[2])

    def on_checkout(*_: Any) -> None:
        seen.checkouts += 1

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "checkout", on_checkout)
