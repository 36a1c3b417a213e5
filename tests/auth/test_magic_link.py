from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
from sqlalchemy import update

from herald.auth.models import MagicLinkToken
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.mailer import MemoryMailer
from herald.kit.tokens import digest
from herald.settings import Settings
from tests.auth.support import MakeUser, Person, bearer
from tests.conftest import TenantFixture


async def _request_link(
    client: httpx.AsyncClient, mailer: MemoryMailer, person: Person, **extra: str
) -> str:
    response = await client.post("/v1/auth/magic-link", json={"email": person.email, **extra})
    assert response.status_code == 202
    (mail,) = [m for m in mailer.outbox if m.to == person.email]
    link = next(word for word in mail.text.split() if "/v1/auth/magic-link/verify" in word)
    return parse_qs(urlparse(link).query)["token"][0]


async def _verify(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/v1/auth/magic-link/verify", json={"token": token})


class TestRequestMagicLink:
    async def test_mails_a_link(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        make_user: MakeUser,
        mailer: MemoryMailer,
        settings: Settings,
    ) -> None:
        person = await make_user(tenant.id)
        token = await _request_link(client, mailer, person)
        assert mailer.outbox[0].text.count(settings.base_url) == 1
        assert len(token) >= 40

    async def test_unknown_email_answers_the_same(
        self, client: httpx.AsyncClient, mailer: MemoryMailer
    ) -> None:
        response = await client.post("/v1/auth/magic-link", json={"email": "ghost@example.com"})
        assert response.status_code == 202
        assert "If the address has an account" in response.json()["detail"]
        assert mailer.outbox == []

    async def test_other_tenant_sends_nothing(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
        mailer: MemoryMailer,
    ) -> None:
        person = await make_user(tenant.id)
        response = await client.post(
            "/v1/auth/magic-link",
            json={"email": person.email, "tenant_id": str(other_tenant.id)},
        )
        assert response.status_code == 202
        assert mailer.outbox == []

    async def test_invalid_email(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/auth/magic-link", json={"email": "nope"})
        assert response.status_code == 422


class TestVerifyMagicLink:
    async def test_signs_in_once(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        make_user: MakeUser,
        mailer: MemoryMailer,
    ) -> None:
        person = await make_user(tenant.id, role=Role.viewer)
        token = await _request_link(client, mailer, person)
        first = await _verify(client, token)
        assert first.status_code == 200
        assert first.json()["role"] == "viewer"
        assert (
            await client.get("/v1/tenant", headers=bearer(first.json()["access_token"]))
        ).is_success
        second = await _verify(client, token)
        assert second.status_code == 401
        assert "already used" in second.json()["detail"]

    async def test_asked_tenant(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
        mailer: MemoryMailer,
    ) -> None:
        person = await make_user(tenant.id, other_tenant.id)
        token = await _request_link(client, mailer, person, tenant_id=str(other_tenant.id))
        assert (await _verify(client, token)).json()["tenant_id"] == str(other_tenant.id)

    async def test_expired(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        make_user: MakeUser,
        mailer: MemoryMailer,
        db: Database,
    ) -> None:
        person = await make_user(tenant.id)
        token = await _request_link(client, mailer, person)
        async with db.system_session() as session:
            await session.execute(
                update(MagicLinkToken)
                .where(MagicLinkToken.token_hash == digest(token))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        response = await _verify(client, token)
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

    async def test_unknown(self, client: httpx.AsyncClient) -> None:
        assert (await _verify(client, "made-up")).status_code == 401
