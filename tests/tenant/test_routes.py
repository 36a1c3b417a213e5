from __future__ import annotations

import httpx
import pytest

from herald.kit.context import Role
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


class TestTenantSettings:
    async def test_defaults_are_read(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        settings = (await client.get("/v1/tenant", headers=tenant.headers)).json()["settings"]
        assert settings["smart_encoding"] is False
        assert settings["opt_out_footer"] == {"en": "Reply STOP to opt out"}

    async def test_patch_merges_the_keys_sent(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        first = {"settings": {"smart_encoding": True}}
        await client.patch("/v1/tenant", json=first, headers=tenant.headers)
        second = {"settings": {"opt_out_footer": {"en": "Text STOP to quit", "fr": "STOP au 36"}}}
        response = await client.patch("/v1/tenant", json=second, headers=tenant.headers)
        assert response.status_code == 200
        settings = response.json()["settings"]
        assert settings["smart_encoding"] is True
        assert settings["opt_out_footer"]["fr"] == "STOP au 36"
        other = (await client.get("/v1/tenant", headers=other_tenant.headers)).json()
        assert other["settings"]["smart_encoding"] is False

    async def test_unknown_setting_is_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        body = {"settings": {"smart_encodin": True}}
        response = await client.patch("/v1/tenant", json=body, headers=tenant.headers)
        assert response.status_code == 422
        assert "smart_encodin" in str(response.json())

    @pytest.mark.parametrize(
        "url",
        [
            "javascript:alert(1)//{code}",
            "https://shop.example/discount",
            "https://a@b.example/{code}",
        ],
    )
    async def test_a_discount_url_that_links_could_not_use_is_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture, url: str
    ) -> None:
        body = {"settings": {"discount_url": url}}
        response = await client.patch("/v1/tenant", json=body, headers=tenant.headers)
        assert response.status_code == 422
