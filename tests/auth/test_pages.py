"""The pages mailed links open: they show a form and never use the token themselves."""

from __future__ import annotations

import httpx

from herald.kit.mailer import MemoryMailer
from tests.auth.support import MakeUser
from tests.auth.test_magic_link import _request_link, _verify
from tests.conftest import TenantFixture


async def test_magic_link_page_keeps_the_token_usable(
    client: httpx.AsyncClient, mailer: MemoryMailer, make_user: MakeUser, tenant: TenantFixture
) -> None:
    token = await _request_link(client, mailer, await make_user(tenant.id))
    page = await client.get("/v1/auth/magic-link/verify", params={"token": token})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert f'data-token="{token}"' in page.text
    used = await _verify(client, token)
    assert used.status_code == 200
    assert used.json()["access_token"]


async def test_page_escapes_what_it_is_given(client: httpx.AsyncClient) -> None:
    hostile = '"><script>alert(1)</script>'
    page = await client.get("/v1/invitations/accept", params={"token": hostile})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text


async def test_page_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/auth/magic-link/verify")
    assert response.status_code == 422
    assert "token" in response.json()["detail"]
