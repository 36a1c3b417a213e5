from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
from sqlalchemy import update

from herald.kit.context import Role
from herald.kit.database import Database
from herald.settings import Settings
from herald.user.models import Membership, User
from tests.auth.support import MakeUser, bearer, login
from tests.conftest import TenantFixture


class TestLogin:
    async def test_valid(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        make_user: MakeUser,
        settings: Settings,
    ) -> None:
        person = await make_user(tenant.id, role=Role.manager)
        tokens = await login(client, person)
        assert tokens["token_type"] == "bearer"
        assert tokens["tenant_id"] == str(tenant.id)
        assert tokens["role"] == "manager"
        assert tokens["expires_in"] == settings.access_token_minutes * 60
        claims = jwt.decode(
            tokens["access_token"],
            settings.secret_key.get_secret_value(),  # type: ignore[union-attr]
            algorithms=["HS256"],
        )
        assert claims["sub"] == str(person.id)
        assert claims["tid"] == str(tenant.id)
        assert claims["typ"] == "access"
        assert {"exp", "iat", "jti"} <= claims.keys()
        response = await client.get("/v1/tenant", headers=bearer(tokens["access_token"]))
        assert response.status_code == 200
        assert response.json()["id"] == str(tenant.id)

    async def test_email_is_case_insensitive(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id)
        response = await client.post(
            "/v1/auth/login", json={"email": person.email.upper(), "password": person.password}
        )
        assert response.status_code == 200

    async def test_wrong_password_and_unknown_email_answer_alike(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id)
        wrong = await client.post(
            "/v1/auth/login", json={"email": person.email, "password": "not the password"}
        )
        unknown = await client.post(
            "/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever12"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["detail"] == unknown.json()["detail"]
        assert "email or password" in wrong.json()["detail"]

    async def test_invalid_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/auth/login", json={"email": "not-an-email"})
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert {"email", "password"} <= fields

    async def test_picks_the_oldest_membership_or_the_asked_tenant(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
    ) -> None:
        person = await make_user(tenant.id, other_tenant.id, role=Role.viewer)
        assert (await login(client, person))["tenant_id"] == str(tenant.id)
        chosen = await login(client, person, other_tenant.id)
        assert chosen["tenant_id"] == str(other_tenant.id)
        response = await client.get("/v1/tenant", headers=bearer(chosen["access_token"]))
        assert response.json()["id"] == str(other_tenant.id)

    async def test_other_tenant_is_refused(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
    ) -> None:
        person = await make_user(tenant.id)
        response = await client.post(
            "/v1/auth/login",
            json={
                "email": person.email,
                "password": person.password,
                "tenant_id": str(other_tenant.id),
            },
        )
        assert response.status_code == 403
        assert "not a member" in response.json()["detail"]

    async def test_lesser_role_cannot_write(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id, role=Role.viewer)
        headers = bearer((await login(client, person))["access_token"])
        response = await client.patch("/v1/tenant", json={"name": "X"}, headers=headers)
        assert response.status_code == 403
        assert "viewer" in response.json()["detail"]


class TestAccessToken:
    def _token(self, settings: Settings, key: str | None = None, **claims: object) -> str:
        now = datetime.now(UTC)
        base: dict[str, object] = {
            "sub": "0190f1f4-0000-7000-8000-000000000001",
            "tid": "0190f1f4-0000-7000-8000-000000000002",
            "role": "owner",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "jti": "x",
            "typ": "access",
        }
        secret = key or settings.secret_key.get_secret_value()  # type: ignore[union-attr]
        return jwt.encode({**base, **claims}, secret, algorithm="HS256")

    async def test_expired(self, client: httpx.AsyncClient, settings: Settings) -> None:
        token = self._token(settings, exp=datetime.now(UTC) - timedelta(seconds=5))
        response = await client.get("/v1/tenant", headers=bearer(token))
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

    async def test_bad_signature(self, client: httpx.AsyncClient, settings: Settings) -> None:
        token = self._token(settings, key="another key that is long enough for hs256")
        response = await client.get("/v1/tenant", headers=bearer(token))
        assert response.status_code == 401
        assert "signature" in response.json()["detail"]

    async def test_wrong_type(self, client: httpx.AsyncClient, settings: Settings) -> None:
        response = await client.get(
            "/v1/tenant", headers=bearer(self._token(settings, typ="refresh"))
        )
        assert response.status_code == 401
        assert "not an access token" in response.json()["detail"]

    async def test_garbage(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/tenant", headers=bearer("nonsense"))
        assert response.status_code == 401
        assert "hk_" in response.json()["detail"]

    async def test_token_for_one_tenant_cannot_reach_another(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
        settings: Settings,
    ) -> None:
        person = await make_user(tenant.id, role=Role.owner)
        forged = self._token(
            settings,
            key="a different key of thirty-two bytes or more",
            sub=str(person.id),
            tid=str(other_tenant.id),
        )
        assert (await client.get("/v1/tenant", headers=bearer(forged))).status_code == 401
        headers = bearer((await login(client, person))["access_token"])
        response = await client.patch(
            f"/v1/members/{other_tenant.owner_id}", json={"role": "viewer"}, headers=headers
        )
        assert response.status_code == 404
        # A correctly signed token naming a tenant the user is not in is refused too.
        signed = self._token(settings, sub=str(person.id), tid=str(other_tenant.id))
        response = await client.get("/v1/tenant", headers=bearer(signed))
        assert response.status_code == 401

    async def test_demotion_takes_effect_at_once(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser, db: Database
    ) -> None:
        person = await make_user(tenant.id, role=Role.admin)
        headers = bearer((await login(client, person))["access_token"])
        async with db.system_session() as session:
            await session.execute(
                update(Membership).where(Membership.user_id == person.id).values(role=Role.viewer)
            )
        response = await client.patch("/v1/tenant", json={"name": "X"}, headers=headers)
        assert response.status_code == 403

    async def test_disabled_user_is_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser, db: Database
    ) -> None:
        person = await make_user(tenant.id)
        headers = bearer((await login(client, person))["access_token"])
        async with db.system_session() as session:
            await session.execute(update(User).where(User.id == person.id).values(is_active=False))
        assert (await client.get("/v1/tenant", headers=headers)).status_code == 401
