"""A key is created or revoked only by a caller at least as powerful as the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from herald.kit.context import Role
from tests.conftest import TenantFixture


async def _key_of(client: httpx.AsyncClient, tenant: TenantFixture, role: Role) -> str:
    response = await client.post(
        "/v1/api-keys", json={"name": f"{role} key", "role": role}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    key_id: str = response.json()["id"]
    return key_id


class TestRevoke:
    @pytest.mark.parametrize(("caller", "target"), [(Role.admin, Role.owner)])
    async def test_more_powerful_key_is_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture, caller: Role, target: Role
    ) -> None:
        key_id = await _key_of(client, tenant, target)
        response = await client.delete(
            f"/v1/api-keys/{key_id}", headers=await tenant.key_for(caller)
        )
        assert response.status_code == 403
        assert "owner" in response.json()["detail"]
        listed = await client.get("/v1/api-keys", headers=tenant.headers)
        stored = next(k for k in listed.json()["items"] if k["id"] == key_id)
        assert stored["revoked_at"] is None

    @pytest.mark.parametrize("target", [Role.admin, Role.manager, Role.viewer])
    async def test_equal_or_lesser_key_is_revoked(
        self, client: httpx.AsyncClient, tenant: TenantFixture, target: Role
    ) -> None:
        key_id = await _key_of(client, tenant, target)
        response = await client.delete(
            f"/v1/api-keys/{key_id}", headers=await tenant.key_for(Role.admin)
        )
        assert response.status_code == 200, response.text
        assert response.json()["revoked_at"] is not None

    async def test_owner_revokes_owner_key(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        key_id = await _key_of(client, tenant, Role.owner)
        response = await client.delete(f"/v1/api-keys/{key_id}", headers=tenant.headers)
        assert response.status_code == 200


class TestCreate:
    async def test_admin_cannot_mint_owner_key(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        response = await client.post(
            "/v1/api-keys",
            json={"name": "x", "role": "owner"},
            headers=await tenant.key_for(Role.admin),
        )
        assert response.status_code == 403

    async def test_expiry_in_the_past_is_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        response = await client.post(
            "/v1/api-keys", json={"name": "x", "expires_at": past}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "future" in response.text

    async def test_future_expiry_is_kept(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        response = await client.post(
            "/v1/api-keys", json={"name": "x", "expires_at": future}, headers=tenant.headers
        )
        assert response.status_code == 201
        assert response.json()["expires_at"] is not None
