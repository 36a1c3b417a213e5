from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from herald.audit.models import AuditEntry
from herald.audit.service import REDACTED, record
from herald.kit.context import Role
from herald.kit.database import Database
from tests.conftest import TenantFixture


async def audit(
    client: httpx.AsyncClient, tenant: TenantFixture, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get("/v1/audit-log", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def create_key(client: httpx.AsyncClient, tenant: TenantFixture, name: str) -> str:
    response = await client.post(
        "/v1/api-keys", json={"name": name, "role": "viewer"}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    key_id: str = response.json()["id"]
    return key_id


class TestRecordedChanges:
    async def test_tenant_update(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.patch(
            "/v1/tenant",
            json={"name": "Renamed", "is_paused": True},
            headers={**tenant.headers, "User-Agent": "audit-test/1.0"},
        )
        assert response.status_code == 200
        [entry] = await audit(client, tenant, resource_type="tenants")
        assert entry["action"] == "tenant.updated"
        assert entry["resource_id"] == str(tenant.id)
        assert entry["changes"] == {
            "name": {"old": "First Shop", "new": "Renamed"},
            "is_paused": {"old": False, "new": True},
        }
        assert entry["actor"].startswith("api_key:")
        assert entry["actor_api_key_id"] is not None
        assert entry["user_agent"] == "audit-test/1.0"
        assert entry["ip"] is not None
        assert entry["request_id"] == response.headers["x-request-id"]

    async def test_key_created_with_hash_redacted(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        key_id = await create_key(client, tenant, "reporting")
        [entry] = await audit(client, tenant, action="api_key.created")
        assert entry["resource_type"] == "api_keys"
        assert entry["resource_id"] == key_id
        assert entry["changes"]["name"] == {"old": None, "new": "reporting"}
        assert entry["changes"]["role"] == {"old": None, "new": "viewer"}
        assert entry["changes"]["key_hash"] == {"old": None, "new": REDACTED}
        assert "last_used_at" not in entry["changes"]

    async def test_key_revoked(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        key_id = await create_key(client, tenant, "temporary")
        response = await client.delete(f"/v1/api-keys/{key_id}", headers=tenant.headers)
        assert response.status_code == 200
        entries = await audit(client, tenant, resource_id=key_id)
        assert [e["action"] for e in entries] == ["api_key.updated", "api_key.created"]
        assert entries[0]["changes"]["revoked_at"]["old"] is None
        assert entries[0]["changes"]["revoked_at"]["new"] is not None

    async def test_authenticating_is_not_a_change(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        headers = await tenant.key_for(Role.viewer)
        assert (await client.get("/v1/tenant", headers=headers)).status_code == 200
        assert await audit(client, tenant, resource_type="api_keys") == []

    async def test_failed_request_leaves_no_entry(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        response = await client.patch(
            "/v1/tenant", json={"timezone": "Mars/Base"}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert await audit(client, tenant) == []


class TestRecord:
    async def test_bulk_operation_outside_a_request(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture
    ) -> None:
        async with db.tenant_session(tenant.id) as session:
            await record(
                session, "contact.imported", "contacts", changes={"rows": 3}, tenant_id=tenant.id
            )
        [entry] = await audit(client, tenant, action="contact.imported")
        assert entry["changes"] == {"rows": 3}
        assert entry["actor"] is None
        assert entry["resource_id"] is None

    async def test_needs_a_tenant(self, db: Database) -> None:
        async with db.system_session() as session:
            with pytest.raises(ValueError, match="tenant_id"):
                await record(session, "contact.imported", "contacts")


class TestListFilters:
    async def test_filters_and_pages(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        first = await create_key(client, tenant, "one")
        second = await create_key(client, tenant, "two")
        newest_first = await audit(client, tenant, action="api_key.created")
        assert [e["resource_id"] for e in newest_first] == [second, first]

        page = await client.get("/v1/audit-log", params={"limit": 1}, headers=tenant.headers)
        assert [e["resource_id"] for e in page.json()["items"]] == [second]
        rest = await client.get(
            "/v1/audit-log",
            params={"limit": 1, "cursor": page.json()["next_cursor"]},
            headers=tenant.headers,
        )
        assert [e["resource_id"] for e in rest.json()["items"]] == [first]

        actor = newest_first[0]["actor_api_key_id"]
        assert len(await audit(client, tenant, actor=actor)) == 2
        assert await audit(client, tenant, actor=second) == []
        assert len(await audit(client, tenant, resource_type="api_keys", resource_id=first)) == 1

    async def test_time_window(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        await create_key(client, tenant, "windowed")
        now = datetime.now(UTC)
        before = (now - timedelta(minutes=5)).isoformat()
        after = (now + timedelta(minutes=5)).isoformat()
        assert len(await audit(client, tenant, since=before, until=after)) == 1
        assert await audit(client, tenant, since=after) == []
        assert await audit(client, tenant, until=before) == []

    async def test_inverted_window(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        now = datetime.now(UTC)
        response = await client.get(
            "/v1/audit-log",
            params={"since": now.isoformat(), "until": (now - timedelta(hours=1)).isoformat()},
            headers=tenant.headers,
        )
        assert response.status_code == 400
        assert "since" in response.json()["detail"]

    async def test_bad_actor(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.get(
            "/v1/audit-log", params={"actor": "someone"}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "actor" in response.json()["detail"]


class TestAccess:
    @pytest.mark.parametrize("role", [Role.viewer, Role.manager])
    async def test_lesser_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture, role: Role
    ) -> None:
        response = await client.get("/v1/audit-log", headers=await tenant.key_for(role))
        assert response.status_code == 403
        assert "admin" in response.json()["detail"]

    async def test_other_tenant_sees_none_of_mine(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
    ) -> None:
        await client.patch("/v1/tenant", json={"name": "Mine"}, headers=tenant.headers)
        assert await audit(client, other_tenant, resource_id=str(tenant.id)) == []
        async with db.tenant_session(other_tenant.id) as session:
            rows = await session.scalars(
                select(AuditEntry).where(AuditEntry.tenant_id == tenant.id)
            )
            assert list(rows) == []

    @pytest.mark.parametrize(
        "statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"]
    )
    async def test_append_only(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, statement: str
    ) -> None:
        await client.patch("/v1/tenant", json={"name": "Kept"}, headers=tenant.headers)
        with pytest.raises(DBAPIError, match="permission denied"):
            async with db.tenant_session(tenant.id) as session:
                await session.execute(text(statement))
        assert len(await audit(client, tenant, resource_type="tenants")) == 1
