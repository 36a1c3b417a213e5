from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
from sqlalchemy import update

from herald.auth.models import ApiKey
from herald.kit.context import Role
from herald.kit.database import Database
from tests.auth.support import bearer
from tests.conftest import TenantFixture


async def _create(
    client: httpx.AsyncClient, tenant: TenantFixture, **body: object
) -> dict[str, str]:
    response = await client.post(
        "/v1/api-keys", json={"name": "test", **body}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


class TestCreateApiKey:
    async def test_shown_once_and_stored_hashed(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        created = await _create(client, tenant, role="manager")
        assert created["key"].startswith(f"hk_{created['prefix']}_")
        async with db.system_session() as session:
            stored = await session.get(ApiKey, created["id"])
        assert stored is not None and created["key"] not in stored.key_hash
        listed = await client.get("/v1/api-keys", headers=tenant.headers)
        assert all("key" not in item for item in listed.json()["items"])

    async def test_cannot_exceed_own_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        headers = await tenant.key_for(Role.admin)
        response = await client.post(
            "/v1/api-keys", json={"name": "x", "role": "owner"}, headers=headers
        )
        assert response.status_code == 403

    async def test_lesser_role(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        headers = await tenant.key_for(Role.manager)
        response = await client.post("/v1/api-keys", json={"name": "x"}, headers=headers)
        assert response.status_code == 403


class TestAuthenticateApiKey:
    async def test_last_used_is_recorded(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        created = await _create(client, tenant)
        assert created["last_used_at"] is None
        assert (await client.get("/v1/tenant", headers=bearer(created["key"]))).is_success
        async with db.system_session() as session:
            stored = await session.get(ApiKey, created["id"])
        assert stored is not None and stored.last_used_at is not None

    async def test_revoked_key_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        created = await _create(client, tenant)
        revoked = await client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.headers)
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        response = await client.get("/v1/tenant", headers=bearer(created["key"]))
        assert response.status_code == 401
        assert "revoked" in response.json()["detail"]

    async def test_expired_key_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        created = await _create(
            client, tenant, expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat()
        )
        assert (await client.get("/v1/tenant", headers=bearer(created["key"]))).is_success
        async with db.system_session() as session:
            await session.execute(
                update(ApiKey)
                .where(ApiKey.id == created["id"])
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        response = await client.get("/v1/tenant", headers=bearer(created["key"]))
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

    async def test_tampered_key_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        created = await _create(client, tenant)
        response = await client.get("/v1/tenant", headers=bearer(created["key"][:-2] + "zz"))
        assert response.status_code == 401


class TestRevokeApiKey:
    async def test_other_tenant(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        created = await _create(client, tenant)
        response = await client.delete(
            f"/v1/api-keys/{created['id']}", headers=other_tenant.headers
        )
        assert response.status_code == 404
        assert (await client.get("/v1/tenant", headers=bearer(created["key"]))).is_success

    async def test_unknown(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.delete(f"/v1/api-keys/{uuid4()}", headers=tenant.headers)
        assert response.status_code == 404

    async def test_lesser_role(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        created = await _create(client, tenant)
        headers = await tenant.key_for(Role.manager)
        response = await client.delete(f"/v1/api-keys/{created['id']}", headers=headers)
        assert response.status_code == 403
