from __future__ import annotations

from uuid import uuid4

import httpx

from herald.kit.context import Role
from tests.auth.support import MakeUser, signed_in
from tests.conftest import TenantFixture


class TestListMembers:
    async def test_viewer_sees_this_tenant_only(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
    ) -> None:
        viewer = await make_user(tenant.id, role=Role.viewer)
        await make_user(other_tenant.id)
        response = await client.get("/v1/members", headers=await signed_in(client, viewer))
        assert response.status_code == 200
        members = {m["email"]: m["role"] for m in response.json()["items"]}
        assert members == {tenant.owner_email: "owner", viewer.email: "viewer"}

    async def test_pages(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        for _ in range(2):
            await make_user(tenant.id)
        first = await client.get("/v1/members?limit=2", headers=tenant.headers)
        assert len(first.json()["items"]) == 2 and first.json()["next_cursor"]
        rest = await client.get(
            f"/v1/members?limit=2&cursor={first.json()['next_cursor']}", headers=tenant.headers
        )
        assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None

    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/v1/members")).status_code == 401


class TestUpdateMember:
    async def test_admin_changes_a_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        admin = await make_user(tenant.id, role=Role.admin)
        agent = await make_user(tenant.id, role=Role.agent)
        response = await client.patch(
            f"/v1/members/{agent.id}",
            json={"role": "manager"},
            headers=await signed_in(client, admin),
        )
        assert response.status_code == 200
        assert response.json()["role"] == "manager" and response.json()["email"] == agent.email

    async def test_demotion_revokes_keys_above_the_new_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        admin = await make_user(tenant.id, role=Role.admin)
        headers = await signed_in(client, admin)
        keys = {}
        for role in ("admin", "viewer"):
            made = await client.post(
                "/v1/api-keys", json={"name": role, "role": role}, headers=headers
            )
            keys[role] = {"Authorization": f"Bearer {made.json()['key']}"}
        await client.patch(
            f"/v1/members/{admin.id}", json={"role": "agent"}, headers=tenant.headers
        )
        assert (await client.get("/v1/tenant", headers=keys["admin"])).status_code == 401
        assert (await client.get("/v1/tenant", headers=keys["viewer"])).status_code == 200

    async def test_cannot_raise_above_own_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        admin = await make_user(tenant.id, role=Role.admin)
        agent = await make_user(tenant.id, role=Role.agent)
        response = await client.patch(
            f"/v1/members/{agent.id}",
            json={"role": "owner"},
            headers=await signed_in(client, admin),
        )
        assert response.status_code == 403
        assert "above yours" in response.json()["detail"]

    async def test_admin_cannot_demote_an_owner(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        admin = await make_user(tenant.id, role=Role.admin)
        response = await client.patch(
            f"/v1/members/{tenant.owner_id}",
            json={"role": "viewer"},
            headers=await signed_in(client, admin),
        )
        assert response.status_code == 403

    async def test_last_owner_keeps_the_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        response = await client.patch(
            f"/v1/members/{tenant.owner_id}", json={"role": "admin"}, headers=tenant.headers
        )
        assert response.status_code == 409
        assert "last owner" in response.json()["detail"]
        second = await make_user(tenant.id, role=Role.owner)
        response = await client.patch(
            f"/v1/members/{tenant.owner_id}", json={"role": "admin"}, headers=tenant.headers
        )
        assert response.status_code == 200
        # The demoted owner's own owner-role key is revoked with the demotion; use another.
        machine = await tenant.key_for(Role.owner)
        response = await client.patch(
            f"/v1/members/{second.id}", json={"role": "admin"}, headers=machine
        )
        assert response.status_code == 409

    async def test_agent_cannot_manage_members(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        agent = await make_user(tenant.id, role=Role.agent)
        other = await make_user(tenant.id, role=Role.viewer)
        response = await client.patch(
            f"/v1/members/{other.id}",
            json={"role": "agent"},
            headers=await signed_in(client, agent),
        )
        assert response.status_code == 403
        assert "admin" in response.json()["detail"]

    async def test_other_tenant(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
    ) -> None:
        stranger = await make_user(other_tenant.id, role=Role.agent)
        response = await client.patch(
            f"/v1/members/{stranger.id}", json={"role": "viewer"}, headers=tenant.headers
        )
        assert response.status_code == 404
        listed = await client.get("/v1/members", headers=other_tenant.headers)
        roles = {m["email"]: m["role"] for m in listed.json()["items"]}
        assert roles[stranger.email] == "agent"

    async def test_invalid_role(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.patch(
            f"/v1/members/{uuid4()}", json={"role": "emperor"}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "role" in response.json()["detail"]


class TestRemoveMember:
    async def test_removed_member_loses_access(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        agent = await make_user(tenant.id, role=Role.agent)
        headers = await signed_in(client, agent)
        response = await client.delete(f"/v1/members/{agent.id}", headers=tenant.headers)
        assert response.status_code == 204
        assert (await client.get("/v1/tenant", headers=headers)).status_code == 401

    async def test_their_api_keys_stop_working(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        admin = await make_user(tenant.id, role=Role.admin)
        created = await client.post(
            "/v1/api-keys", json={"name": "theirs"}, headers=await signed_in(client, admin)
        )
        key = {"Authorization": f"Bearer {created.json()['key']}"}
        assert (await client.get("/v1/tenant", headers=key)).status_code == 200
        await client.delete(f"/v1/members/{admin.id}", headers=tenant.headers)
        assert (await client.get("/v1/tenant", headers=key)).status_code == 401

    async def test_last_owner(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.delete(f"/v1/members/{tenant.owner_id}", headers=tenant.headers)
        assert response.status_code == 409

    async def test_lesser_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        manager = await make_user(tenant.id, role=Role.manager)
        agent = await make_user(tenant.id, role=Role.agent)
        response = await client.delete(
            f"/v1/members/{agent.id}", headers=await signed_in(client, manager)
        )
        assert response.status_code == 403

    async def test_other_tenant(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
    ) -> None:
        stranger = await make_user(other_tenant.id)
        response = await client.delete(f"/v1/members/{stranger.id}", headers=tenant.headers)
        assert response.status_code == 404
        assert (await signed_in(client, stranger))["Authorization"]
