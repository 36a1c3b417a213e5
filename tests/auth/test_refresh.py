from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, select, update

from herald.auth.models import RefreshToken
from herald.kit.database import Database
from herald.kit.tokens import digest
from herald.user.models import Membership
from tests.auth.support import MakeUser, bearer, login
from tests.conftest import TenantFixture


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/v1/auth/refresh", json={"refresh_token": token})


class TestRefresh:
    async def test_rotates(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser, db: Database
    ) -> None:
        person = await make_user(tenant.id)
        first = await login(client, person)
        response = await _refresh(client, first["refresh_token"])
        assert response.status_code == 200
        second = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["tenant_id"] == str(tenant.id)
        assert (await client.get("/v1/tenant", headers=bearer(second["access_token"]))).is_success
        async with db.system_session() as session:
            rows = {
                t.token_hash: t
                for t in await session.scalars(
                    select(RefreshToken).where(RefreshToken.user_id == person.id)
                )
            }
        old, new = rows[digest(first["refresh_token"])], rows[digest(second["refresh_token"])]
        assert old.used_at is not None and new.used_at is None
        assert old.family_id == new.family_id
        assert len(first["refresh_token"]) >= 40  # opaque and random, only its digest stored

    async def test_reuse_revokes_the_family(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id)
        first = await login(client, person)
        second = (await _refresh(client, first["refresh_token"])).json()
        replay = await _refresh(client, first["refresh_token"])
        assert replay.status_code == 401
        assert "already used" in replay.json()["detail"]
        # The token the legitimate holder rotated to is dead as well.
        after = await _refresh(client, second["refresh_token"])
        assert after.status_code == 401
        assert "revoked" in after.json()["detail"]

    async def test_other_sign_ins_survive_a_reuse(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id)
        elsewhere = await login(client, person)
        first = await login(client, person)
        await _refresh(client, first["refresh_token"])
        await _refresh(client, first["refresh_token"])
        assert (await _refresh(client, elsewhere["refresh_token"])).status_code == 200

    async def test_unknown_and_expired(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser, db: Database
    ) -> None:
        assert (await _refresh(client, "not-a-token")).status_code == 401
        person = await make_user(tenant.id)
        tokens = await login(client, person)
        async with db.system_session() as session:
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.token_hash == digest(tokens["refresh_token"]))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        response = await _refresh(client, tokens["refresh_token"])
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

    async def test_removed_member_cannot_refresh(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser, db: Database
    ) -> None:
        person = await make_user(tenant.id)
        tokens = await login(client, person)
        async with db.system_session() as session:
            await session.execute(delete(Membership).where(Membership.user_id == person.id))
        response = await _refresh(client, tokens["refresh_token"])
        assert response.status_code == 401
        assert "no longer a member" in response.json()["detail"]


class TestLogout:
    async def test_revokes_the_family(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id)
        first = await login(client, person)
        second = (await _refresh(client, first["refresh_token"])).json()
        response = await client.post(
            "/v1/auth/logout", json={"refresh_token": second["refresh_token"]}
        )
        assert response.status_code == 204
        assert (await _refresh(client, second["refresh_token"])).status_code == 401

    async def test_unknown_token(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/auth/logout", json={"refresh_token": "nope"})
        assert response.status_code == 401

    async def test_missing_token(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/auth/logout", json={})
        assert response.status_code == 422
        assert "refresh_token" in response.json()["detail"]
