"""Input PostgreSQL cannot store, or cursors that do not fit, answer 4xx — never 500."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from herald.app import create_app
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.kit.pagination import encode_cursor
from herald.settings import Settings
from tests.conftest import TenantFixture


async def test_nul_character_in_text_is_a_422(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    response = await client.post(
        "/v1/contacts",
        json={"phone": "+14155552671", "first_name": "A\u0000B"},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]
    listed = await client.get("/v1/contacts", headers=tenant.headers)
    assert listed.json()["items"] == []


async def test_nul_character_in_a_bearer_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/tenant", headers={"Authorization": "Bearer hk_ab\u0000c_d"})
    assert response.status_code in (401, 422)


async def test_cursor_of_another_sort_order_is_a_400(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    foreign = encode_cursor("not a date", new_id())
    response = await client.get(
        "/v1/contacts", params={"sort": "created_at", "cursor": foreign}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert "first page" in response.json()["detail"]


async def test_a_uniqueness_race_is_a_409(settings: Settings, db: Database) -> None:
    """Two requests can both pass a service's duplicate check; the database refuses the
    second, and the caller gets a conflict, not a 500."""
    app = create_app(settings, db)

    @app.get("/race")
    async def race() -> None:
        async with db.system_session() as session:
            await session.execute(
                text("INSERT INTO users (id, email) VALUES (:a, :email), (:b, :email)"),
                {"a": new_id(), "b": new_id(), "email": "same@example.com"},
            )

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as client:
        response = await client.get("/race")
    assert response.status_code == 409
    assert "try again" in response.json()["detail"]
