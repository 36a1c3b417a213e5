from __future__ import annotations

import httpx

from tests.auth.support import MakeUser, bearer, login
from tests.conftest import TenantFixture

NEW_PASSWORD = "a much better passphrase"


class TestChangePassword:
    async def test_valid(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id)
        other_device = await login(client, person)
        tokens = await login(client, person)
        response = await client.post(
            "/v1/auth/password",
            json={"current_password": person.password, "new_password": NEW_PASSWORD},
            headers=bearer(tokens["access_token"]),
        )
        assert response.status_code == 204
        old = await client.post(
            "/v1/auth/login", json={"email": person.email, "password": person.password}
        )
        assert old.status_code == 401
        new = await client.post(
            "/v1/auth/login", json={"email": person.email, "password": NEW_PASSWORD}
        )
        assert new.status_code == 200
        refreshed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": other_device["refresh_token"]}
        )
        assert refreshed.status_code == 401
        log = await client.get(
            "/v1/audit-log", params={"action": "user.password_changed"}, headers=tenant.headers
        )
        [entry] = log.json()["items"]
        assert (entry["resource_id"], entry["actor"]) == (str(person.id), f"user:{person.id}")
        assert entry["changes"] == {}

    async def test_wrong_current_password(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id)
        tokens = await login(client, person)
        response = await client.post(
            "/v1/auth/password",
            json={"current_password": "guess guess", "new_password": NEW_PASSWORD},
            headers=bearer(tokens["access_token"]),
        )
        assert response.status_code == 403
        assert "current password" in response.json()["detail"]
        log = await client.get(
            "/v1/audit-log", params={"action": "user.password_changed"}, headers=tenant.headers
        )
        assert log.json()["items"] == []

    async def test_too_short(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id)
        tokens = await login(client, person)
        response = await client.post(
            "/v1/auth/password",
            json={"current_password": person.password, "new_password": "short"},
            headers=bearer(tokens["access_token"]),
        )
        assert response.status_code == 422
        assert "at least 10 characters" in response.json()["detail"]
        again = await client.post(
            "/v1/auth/login", json={"email": person.email, "password": person.password}
        )
        assert again.status_code == 200

    async def test_api_key_has_no_password(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        response = await client.post(
            "/v1/auth/password",
            json={"current_password": "x", "new_password": NEW_PASSWORD},
            headers=tenant.headers,
        )
        assert response.status_code == 403
        assert "access token" in response.json()["detail"]

    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/auth/password", json={"current_password": "x", "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 401
