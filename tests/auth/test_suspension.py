"""A suspended tenant: its keys, access tokens and refresh tokens open nothing until it is
resumed; other tenants are untouched."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import func, select

from herald.auth.models import RefreshToken
from herald.imports import service
from herald.kit.database import Database
from herald.kit.mailer import MemoryMailer
from herald.tenant.models import TenantStatus
from herald.tenant.service import set_status
from herald.user.models import User
from tests.auth.support import MakeUser, bearer, login
from tests.conftest import TenantFixture
from tests.imports.helpers import contacts_by_phone, csv_bytes, upload


async def _set(db: Database, tenant_id: UUID, status: TenantStatus) -> None:
    async with db.system_session() as session:
        await set_status(session, tenant_id, status)


async def test_every_credential_is_refused_while_suspended_and_works_again_after(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    make_user: MakeUser,
    db: Database,
) -> None:
    person = await make_user(tenant.id)
    tokens = await login(client, person)
    await _set(db, tenant.id, TenantStatus.suspended)

    by_key = await client.get("/v1/contacts", headers=tenant.headers)
    by_token = await client.get("/v1/tenant", headers=bearer(tokens["access_token"]))
    refreshed = await client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    other = await client.get("/v1/contacts", headers=other_tenant.headers)

    for refused in (by_key, by_token, refreshed):
        assert refused.status_code == 403, refused.text
        assert "suspended" in refused.json()["detail"]
    assert other.status_code == 200

    await _set(db, tenant.id, TenantStatus.active)

    assert (await client.get("/v1/contacts", headers=tenant.headers)).status_code == 200
    again = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 200, again.text


async def test_a_wrong_key_of_a_suspended_tenant_still_reads_as_not_valid(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    """Suspension is told only to whoever holds a valid credential."""
    await _set(db, tenant.id, TenantStatus.suspended)
    wrong = tenant.api_key[:-4] + "xxxx"

    response = await client.get("/v1/contacts", headers=bearer(wrong))

    assert response.status_code == 401


class TestSignIn:
    async def test_login_to_a_suspended_tenant_is_refused_and_writes_nothing(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser, db: Database
    ) -> None:
        person = await make_user(tenant.id)
        await _set(db, tenant.id, TenantStatus.suspended)

        named = await client.post(
            "/v1/auth/login",
            json={"email": person.email, "password": person.password, "tenant_id": str(tenant.id)},
        )
        unnamed = await client.post(
            "/v1/auth/login", json={"email": person.email, "password": person.password}
        )

        assert named.status_code == unnamed.status_code == 403
        assert "suspended" in named.json()["detail"]
        async with db.system_session() as session:
            user = await session.get(User, person.id)
            tokens = await session.scalar(
                select(func.count()).where(RefreshToken.user_id == person.id)
            )
        assert user is not None and user.last_login_at is None
        assert tokens == 0

    async def test_without_a_tenant_named_the_oldest_active_one_is_chosen(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
        db: Database,
    ) -> None:
        person = await make_user(tenant.id, other_tenant.id)  # member of tenant first
        await _set(db, tenant.id, TenantStatus.suspended)

        tokens = await login(client, person)

        assert tokens["tenant_id"] == str(other_tenant.id)

    async def test_a_used_refresh_token_replayed_while_suspended_still_revokes_its_family(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser, db: Database
    ) -> None:
        """The replay is the only sign of a stolen token: suspension must not swallow it."""
        person = await make_user(tenant.id)
        first = await login(client, person)
        second = (
            await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        ).json()
        await _set(db, tenant.id, TenantStatus.suspended)

        replay = await client.post(
            "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        await _set(db, tenant.id, TenantStatus.active)
        after = await client.post(
            "/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
        )

        assert replay.status_code == 401 and "already used" in replay.json()["detail"]
        assert after.status_code == 401  # the whole family was revoked


async def test_an_invitation_to_a_suspended_tenant_waits_for_its_resumption(
    client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer, db: Database
) -> None:
    email = f"invitee-{uuid4().hex[:8]}@example.com"
    created = await client.post(
        "/v1/invitations", json={"email": email, "role": "agent"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    link = next(w for w in mailer.outbox[-1].text.split() if "/v1/invitations/accept" in w)
    token = parse_qs(urlparse(link).query)["token"][0]
    body = {"token": token, "password": "a long enough password"}
    await _set(db, tenant.id, TenantStatus.suspended)

    refused = await client.post("/v1/invitations/accept", json=body)
    await _set(db, tenant.id, TenantStatus.active)
    accepted = await client.post("/v1/invitations/accept", json=body)

    assert refused.status_code == 403
    assert accepted.status_code == 200, accepted.text


async def test_a_queued_import_of_a_suspended_tenant_does_not_run(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "INLINE_MAX_BYTES", 0)
    queued = await upload(client, tenant, csv_bytes("phone", "+12125550100", "+12125550101"))
    assert queued.status_code == 202, queued.text
    await _set(db, tenant.id, TenantStatus.suspended)

    await service.run_batch(db, UUID(queued.json()["id"]))

    await _set(db, tenant.id, TenantStatus.active)
    batch = (await client.get(f"/v1/imports/{queued.json()['id']}", headers=tenant.headers)).json()
    assert batch["status"] == "failed" and "suspended" in batch["error"]
    assert await contacts_by_phone(db, tenant.id) == {}
