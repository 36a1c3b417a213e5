"""A suspended tenant: its keys, access tokens and refresh tokens open nothing until it is
resumed; other tenants are untouched."""

from __future__ import annotations

from uuid import UUID

import httpx

from herald.kit.database import Database
from herald.tenant.models import TenantStatus
from herald.tenant.service import set_status
from tests.auth.support import MakeUser, bearer, login
from tests.conftest import TenantFixture


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
