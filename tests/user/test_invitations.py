from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

import httpx
from sqlalchemy import update

from herald.audit.service import REDACTED
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.mailer import MemoryMailer
from herald.kit.models import PERSONAL
from herald.user.models import Invitation
from tests.auth.support import PASSWORD, MakeUser, bearer, signed_in
from tests.conftest import TenantFixture

NEW_PASSWORD = "a fresh long password"


async def _invite(
    client: httpx.AsyncClient,
    mailer: MemoryMailer,
    headers: dict[str, str],
    email: str | None = None,
    role: str = "agent",
) -> tuple[dict[str, str], str]:
    """The created invitation and the token mailed with it."""
    email = email or f"new-{uuid4().hex[:10]}@example.com"
    response = await client.post(
        "/v1/invitations", json={"email": email, "role": role}, headers=headers
    )
    assert response.status_code == 201, response.text
    mail = mailer.outbox[-1]
    assert mail.to == email
    link = next(w for w in mail.text.split() if "/v1/invitations/accept" in w)
    return response.json(), parse_qs(urlparse(link).query)["token"][0]


async def _accept(client: httpx.AsyncClient, token: str, **extra: str) -> httpx.Response:
    return await client.post("/v1/invitations/accept", json={"token": token, **extra})


class TestCreateInvitation:
    async def test_audit_entry_names_the_email_without_it(
        self, client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer
    ) -> None:
        """Invitation.email is declared personal: the entry says it was set, not to what."""
        email = f"marked-{uuid4().hex[:10]}@example.com"
        invitation, _token = await _invite(client, mailer, tenant.headers, email)
        log = await client.get(
            "/v1/audit-log", params={"resource_id": invitation["id"]}, headers=tenant.headers
        )
        [entry] = log.json()["items"]
        assert entry["action"] == "invitation.created"
        assert entry["changes"]["email"] == {"old": None, "new": PERSONAL}
        assert entry["changes"]["token_hash"] == {"old": None, "new": REDACTED}
        assert entry["changes"]["role"] == {"old": None, "new": "agent"}
        assert email not in str(entry)

    async def test_mails_a_link(
        self, client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer
    ) -> None:
        invitation, token = await _invite(client, mailer, tenant.headers, role="manager")
        assert invitation["role"] == "manager"
        assert "token" not in invitation and token not in str(invitation)
        assert "First Shop" in mailer.outbox[-1].subject

    async def test_cannot_invite_above_own_role(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        make_user: MakeUser,
        mailer: MemoryMailer,
    ) -> None:
        admin = await make_user(tenant.id, role=Role.admin)
        response = await client.post(
            "/v1/invitations",
            json={"email": "boss@example.com", "role": "owner"},
            headers=await signed_in(client, admin),
        )
        assert response.status_code == 403
        assert mailer.outbox == []

    async def test_lesser_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer
    ) -> None:
        response = await client.post(
            "/v1/invitations",
            json={"email": "x@example.com"},
            headers=await tenant.key_for(Role.manager),
        )
        assert response.status_code == 403

    async def test_existing_member(
        self, client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer
    ) -> None:
        response = await client.post(
            "/v1/invitations", json={"email": tenant.owner_email}, headers=tenant.headers
        )
        assert response.status_code == 409
        assert "already a member" in response.json()["detail"]

    async def test_invalid_email(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.post(
            "/v1/invitations", json={"email": "nope"}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "email" in response.json()["detail"]


class TestListInvitations:
    async def test_pending_of_this_tenant_only(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        mailer: MemoryMailer,
    ) -> None:
        mine, _ = await _invite(client, mailer, tenant.headers)
        await _invite(client, mailer, other_tenant.headers)
        response = await client.get("/v1/invitations", headers=tenant.headers)
        assert [i["id"] for i in response.json()["items"]] == [mine["id"]]

    async def test_a_new_invitation_replaces_the_pending_one(
        self, client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer
    ) -> None:
        _, old_token = await _invite(client, mailer, tenant.headers, "again@example.com")
        second, _ = await _invite(client, mailer, tenant.headers, "again@example.com", "viewer")
        response = await client.get("/v1/invitations", headers=tenant.headers)
        assert [i["id"] for i in response.json()["items"]] == [second["id"]]
        assert (await _accept(client, old_token)).status_code == 404

    async def test_lesser_role(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.get("/v1/invitations", headers=await tenant.key_for(Role.agent))
        assert response.status_code == 403


class TestDeleteInvitation:
    async def test_withdrawn_invitation_cannot_be_accepted(
        self, client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer
    ) -> None:
        invitation, token = await _invite(client, mailer, tenant.headers)
        response = await client.delete(
            f"/v1/invitations/{invitation['id']}", headers=tenant.headers
        )
        assert response.status_code == 204
        assert (await _accept(client, token)).status_code == 404

    async def test_other_tenant(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        mailer: MemoryMailer,
    ) -> None:
        invitation, token = await _invite(client, mailer, tenant.headers)
        response = await client.delete(
            f"/v1/invitations/{invitation['id']}", headers=other_tenant.headers
        )
        assert response.status_code == 404
        assert (await _accept(client, token, password=NEW_PASSWORD)).status_code == 200

    async def test_lesser_role(
        self, client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer
    ) -> None:
        invitation, _ = await _invite(client, mailer, tenant.headers)
        response = await client.delete(
            f"/v1/invitations/{invitation['id']}", headers=await tenant.key_for(Role.manager)
        )
        assert response.status_code == 403


class TestAcceptInvitation:
    async def test_new_user(
        self, client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer
    ) -> None:
        email = f"fresh-{uuid4().hex[:10]}@example.com"
        _, token = await _invite(client, mailer, tenant.headers, email, "manager")
        response = await _accept(client, token, password=NEW_PASSWORD, name="Fresh")
        assert response.status_code == 200
        assert response.json()["role"] == "manager"
        assert response.json()["tenant_id"] == str(tenant.id)
        me = await client.get("/v1/me", headers=bearer(response.json()["access_token"]))
        assert me.json()["name"] == "Fresh"
        login = await client.post("/v1/auth/login", json={"email": email, "password": NEW_PASSWORD})
        assert login.status_code == 200
        assert (await _accept(client, token, password=NEW_PASSWORD)).status_code == 404
        log = await client.get(
            "/v1/audit-log", params={"action": "invitation.accepted"}, headers=tenant.headers
        )
        [entry] = log.json()["items"]
        new_user = me.json()["id"]
        assert entry["changes"] == {"role": "manager", "joined": True}
        assert entry["actor"] == f"user:{new_user}"
        assert email not in str(entry) and "Fresh" not in str(entry)  # no personal data

    async def test_existing_user_keeps_their_password(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
        mailer: MemoryMailer,
    ) -> None:
        person = await make_user(other_tenant.id)
        _, token = await _invite(client, mailer, tenant.headers, person.email)
        response = await _accept(client, token, password=NEW_PASSWORD)
        assert response.status_code == 200
        login = await client.post(
            "/v1/auth/login",
            json={"email": person.email, "password": PASSWORD, "tenant_id": str(tenant.id)},
        )
        assert login.status_code == 200

    async def test_short_password_leaves_the_invitation_usable(
        self, client: httpx.AsyncClient, tenant: TenantFixture, mailer: MemoryMailer
    ) -> None:
        _, token = await _invite(client, mailer, tenant.headers)
        response = await _accept(client, token, password="short")
        assert response.status_code == 422
        assert "at least 10 characters" in response.json()["detail"]
        assert (await _accept(client, token, password=NEW_PASSWORD)).status_code == 200

    async def test_expired(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        mailer: MemoryMailer,
        db: Database,
    ) -> None:
        invitation, token = await _invite(client, mailer, tenant.headers)
        async with db.system_session() as session:
            await session.execute(
                update(Invitation)
                .where(Invitation.id == invitation["id"])
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        response = await _accept(client, token, password=NEW_PASSWORD)
        assert response.status_code == 404
        assert "expired" in response.json()["detail"]
