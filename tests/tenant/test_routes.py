from __future__ import annotations

import httpx

from herald.user.models import Role
from tests.conftest import TenantFixture


class TestReadTenant:
    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/tenant")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "Authorization" in response.json()["detail"]

    async def test_valid(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.get("/v1/tenant", headers=tenant.headers)
        assert response.status_code == 200
        assert response.json()["id"] == str(tenant.id)
        assert response.json()["name"] == "First Shop"

    async def test_other_tenant_key_sees_its_own(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        response = await client.get("/v1/tenant", headers=other_tenant.headers)
        assert response.json()["id"] == str(other_tenant.id)


class TestUpdateTenant:
    async def test_viewer_cannot_write(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        headers = await tenant.key_for(Role.viewer)
        response = await client.patch("/v1/tenant", json={"name": "X"}, headers=headers)
        assert response.status_code == 403
        assert "admin" in response.json()["detail"]

    async def test_valid(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.patch(
            "/v1/tenant",
            json={"name": "Renamed", "timezone": "Europe/Paris"},
            headers=tenant.headers,
        )
        assert response.status_code == 200
        again = await client.get("/v1/tenant", headers=tenant.headers)
        assert again.json()["name"] == "Renamed"
        assert again.json()["timezone"] == "Europe/Paris"

    async def test_bad_timezone(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.patch(
            "/v1/tenant", json={"timezone": "Mars/Base"}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "timezone" in response.json()["detail"]
        assert "IANA" in response.json()["detail"]
