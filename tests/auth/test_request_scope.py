"""What a route's own queries run under: the app role and the caller's tenant, set by the same
statement that authenticates the caller (no round trip of its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import event, text

from herald.app import create_app
from herald.auth.dependencies import Viewer
from herald.kit.database import Database
from herald.kit.rls import APP_ROLE
from herald.settings import Settings
from tests.auth.support import MakeUser
from tests.conftest import TenantFixture


@pytest_asyncio.fixture
async def probe(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An app with one extra route that reports who its queries run as."""
    app: FastAPI = create_app(settings, db)

    @app.get("/probe")
    async def whoami(auth: Viewer) -> dict[str, Any]:
        row = (
            await auth.session.execute(
                text("SELECT current_user, current_setting('herald.tenant_id', true)")
            )
        ).one()
        return {"role": row[0], "tenant_id": row[1]}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as client:
        yield client


async def test_an_api_key_scopes_the_route_to_its_tenant(
    probe: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    for shop in (tenant, other_tenant):
        body = (await probe.get("/probe", headers=shop.headers)).json()
        assert body == {"role": APP_ROLE, "tenant_id": str(shop.id)}


async def test_an_access_token_scopes_the_route_to_its_tenant(
    probe: httpx.AsyncClient, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
) -> None:
    person = await make_user(tenant.id)
    login = await client.post(
        "/v1/auth/login", json={"email": person.email, "password": person.password}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    body = (await probe.get("/probe", headers=headers)).json()
    assert body == {"role": APP_ROLE, "tenant_id": str(tenant.id)}


async def test_authentication_and_scope_take_one_statement(
    probe: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    """Before the route's own query, the request sends exactly one statement."""
    await probe.get("/probe", headers=tenant.headers)  # last_used_at is written once a minute
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await probe.get("/probe", headers=tenant.headers)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert len(statements) == 2
    assert "set_config" in statements[0] and "api_keys" in statements[0]
    assert "current_user" in statements[1]


@pytest_asyncio.fixture
async def observed(db: Database) -> AsyncIterator[list[tuple[str, str, str]]]:
    """(statement, role, herald.tenant_id) for every statement the app sends on ``contacts``,
    read on the statement's own connection just before it runs."""
    seen: list[tuple[str, str, str]] = []

    def watch(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "contacts" not in statement:
            return
        probe = conn.connection.dbapi_connection.cursor()
        probe.execute("SELECT current_user, current_setting('herald.tenant_id', true)")
        role, tenant = probe.fetchone()
        probe.close()
        seen.append((statement, role, tenant))

    event.listen(db.engine.sync_engine, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", watch)


async def test_real_routes_query_as_the_app_role_in_the_callers_tenant(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    observed: list[tuple[str, str, str]],
) -> None:
    """Not a probe route: the queries of the contact routes themselves, read and write, for
    two tenants. Removing the scope from the authenticating statement fails this."""
    for shop, phone in ((tenant, "+14155550181"), (other_tenant, "+14155550182")):
        observed.clear()
        made = await client.post("/v1/contacts", json={"phone": phone}, headers=shop.headers)
        assert made.status_code == 201, made.text
        assert (await client.get("/v1/contacts", headers=shop.headers)).status_code == 200
        assert len(observed) >= 2
        assert {(role, scope) for _sql, role, scope in observed} == {(APP_ROLE, str(shop.id))}
