"""Input PostgreSQL cannot store, or cursors that do not fit, answer 4xx — never 500."""

from __future__ import annotations

import httpx

from herald.kit.ids import new_id
from herald.kit.pagination import encode_cursor
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
