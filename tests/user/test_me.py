from __future__ import annotations

import httpx

from herald.kit.context import Role
from tests.auth.support import MakeUser, signed_in
from tests.conftest import TenantFixture


class TestReadMe:
    async def test_lists_every_membership(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
    ) -> None:
        person = await make_user(tenant.id, other_tenant.id, role=Role.viewer)
        response = await client.get("/v1/me", headers=await signed_in(client, person))
        assert response.status_code == 200
        body = response.json()
        assert body["email"] == person.email and body["last_login_at"]
        assert [(m["tenant_name"], m["role"]) for m in body["memberships"]] == [
            ("First Shop", "viewer"),
            ("Second Shop", "viewer"),
        ]

    async def test_api_key_is_not_a_user(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        response = await client.get("/v1/me", headers=tenant.headers)
        assert response.status_code == 403
        assert "access token" in response.json()["detail"]
