from __future__ import annotations

from uuid import UUID

import httpx
import pytest
from sqlalchemy import text

from herald.audit.service import REDACTED
from herald.kit.context import Role
from herald.kit.crypto import CryptoError, current_keyring
from herald.kit.database import Database
from herald.kit.errors import NotFound
from herald.secret.service import reveal
from tests.conftest import TenantFixture

PLAINTEXT = "twilio-auth-token-0123456789"


async def put(
    client: httpx.AsyncClient, tenant: TenantFixture, name: str, body: dict[str, str]
) -> httpx.Response:
    return await client.put(f"/v1/secrets/{name}", json=body, headers=tenant.headers)


async def raw_value(db: Database, tenant_id: UUID, name: str) -> str:
    async with db.system_session() as session:
        value = await session.scalar(
            text("SELECT value FROM tenant_secrets WHERE tenant_id = :t AND name = :n"),
            {"t": tenant_id, "n": name},
        )
    assert isinstance(value, str)
    return value


async def plaintext(db: Database, tenant_id: UUID, name: str) -> str:
    async with db.tenant_session(tenant_id) as session:
        return await reveal(session, tenant_id, name)


class TestPut:
    async def test_create_then_replace(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture
    ) -> None:
        created = await put(client, tenant, "twilio.token", {"value": "v1", "description": "SMS"})
        assert created.status_code == 201
        assert created.json()["name"] == "twilio.token"
        assert created.json()["description"] == "SMS"
        assert "value" not in created.json()

        replaced = await put(client, tenant, "twilio.token", {"value": "v2"})
        assert replaced.status_code == 200
        assert replaced.json()["description"] == "SMS"
        assert replaced.json()["last_rotated_at"] > created.json()["last_rotated_at"]
        assert await plaintext(db, tenant.id, "twilio.token") == "v2"

    async def test_stored_encrypted(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture
    ) -> None:
        assert (await put(client, tenant, "api-token", {"value": PLAINTEXT})).status_code == 201
        stored = await raw_value(db, tenant.id, "api-token")
        assert PLAINTEXT not in stored
        assert stored.startswith(f"v1:{current_keyring().primary}:")
        assert await plaintext(db, tenant.id, "api-token") == PLAINTEXT

    async def test_tampered_value_fails(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture
    ) -> None:
        await put(client, tenant, "tampered", {"value": PLAINTEXT})
        stored = await raw_value(db, tenant.id, "tampered")
        flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
        async with db.system_session() as session:
            await session.execute(
                text("UPDATE tenant_secrets SET value = :v WHERE tenant_id = :t"),
                {"v": flipped, "t": tenant.id},
            )
        with pytest.raises(CryptoError, match="altered"):
            await plaintext(db, tenant.id, "tampered")
        async with db.system_session() as session:  # leave nothing undecryptable behind
            await session.execute(
                text("DELETE FROM tenant_secrets WHERE tenant_id = :t"), {"t": tenant.id}
            )

    @pytest.mark.parametrize("name", ["Upper", "-leading", "has space", "x" * 101])
    async def test_bad_name(
        self, client: httpx.AsyncClient, tenant: TenantFixture, name: str
    ) -> None:
        response = await put(client, tenant, name, {"value": "v"})
        assert response.status_code == 422
        assert "name" in response.json()["detail"]

    async def test_empty_value(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await put(client, tenant, "empty", {"value": ""})
        assert response.status_code == 422
        assert "value" in response.json()["detail"]

    async def test_audited_without_the_value(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        await put(client, tenant, "audited", {"value": PLAINTEXT, "description": "d"})
        response = await client.get(
            "/v1/audit-log", params={"resource_type": "tenant_secrets"}, headers=tenant.headers
        )
        [entry] = response.json()["items"]
        assert entry["action"] == "tenant_secret.created"
        assert entry["changes"]["value"] == {"old": None, "new": REDACTED}
        assert entry["changes"]["name"]["new"] == "audited"
        assert PLAINTEXT not in response.text


class TestReadAndDelete:
    async def test_list_has_no_values(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        for name in ("b-key", "a-key", "c-key"):
            await put(client, tenant, name, {"value": PLAINTEXT})
        first = await client.get("/v1/secrets", params={"limit": 2}, headers=tenant.headers)
        assert [s["name"] for s in first.json()["items"]] == ["a-key", "b-key"]
        rest = await client.get(
            "/v1/secrets",
            params={"limit": 2, "cursor": first.json()["next_cursor"]},
            headers=tenant.headers,
        )
        assert [s["name"] for s in rest.json()["items"]] == ["c-key"]
        assert rest.json()["next_cursor"] is None
        assert PLAINTEXT not in first.text + rest.text

    async def test_read_one_and_delete(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture
    ) -> None:
        await put(client, tenant, "gone", {"value": "x"})
        assert (await client.get("/v1/secrets/gone", headers=tenant.headers)).status_code == 200
        deleted = await client.delete("/v1/secrets/gone", headers=tenant.headers)
        assert deleted.status_code == 204
        missing = await client.get("/v1/secrets/gone", headers=tenant.headers)
        assert missing.status_code == 404
        assert "PUT /v1/secrets/gone" in missing.json()["detail"]
        again = await client.delete("/v1/secrets/gone", headers=tenant.headers)
        assert again.status_code == 404
        with pytest.raises(NotFound):
            await plaintext(db, tenant.id, "gone")


class TestAccess:
    async def test_other_tenant(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
    ) -> None:
        await put(client, tenant, "mine", {"value": "first"})
        for method in ("GET", "DELETE"):
            response = await client.request(
                method, "/v1/secrets/mine", headers=other_tenant.headers
            )
            assert response.status_code == 404
        listed = await client.get("/v1/secrets", headers=other_tenant.headers)
        assert listed.json()["items"] == []
        assert (await put(client, other_tenant, "mine", {"value": "second"})).status_code == 201
        assert await plaintext(db, tenant.id, "mine") == "first"
        assert await plaintext(db, other_tenant.id, "mine") == "second"

    @pytest.mark.parametrize("role", [Role.viewer, Role.manager])
    async def test_lesser_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture, role: Role
    ) -> None:
        await put(client, tenant, "guarded", {"value": "x"})
        headers = await tenant.key_for(role)
        for method, path in [
            ("GET", "/v1/secrets"),
            ("GET", "/v1/secrets/guarded"),
            ("PUT", "/v1/secrets/guarded"),
            ("DELETE", "/v1/secrets/guarded"),
        ]:
            body = {"value": "changed"} if method == "PUT" else None
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path)
            assert "admin" in response.json()["detail"]
        assert (await client.get("/v1/secrets/guarded", headers=tenant.headers)).status_code == 200
