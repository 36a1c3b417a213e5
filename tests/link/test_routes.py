"""The /v1/links API: creation, validation, reads, lists, tenants and roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest

from herald.kit.context import Role
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.link.helpers import make_link, read_link, set_tenant_settings
from tests.segment.helpers import add_contacts


class TestCreate:
    async def test_defaults(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        link = await make_link(client, tenant)
        assert link["short_url"] == f"http://127.0.0.1:8000/l/{link['token']}"
        assert link["utm"] == {
            "source": "herald",
            "medium": "sms",
            "campaign": None,
            "content": None,
            "term": None,
        }
        assert link["redirect_url"] == "https://shop.example/sale?utm_source=herald&utm_medium=sms"
        assert (link["clicks"], link["human_clicks"], link["expired"]) == (0, 0, False)
        assert link["first_clicked_at"] is None and link["contact_id"] is None
        lifetime = _days_between(link["created_at"], link["expires_at"])
        assert lifetime == 60

    async def test_all_fields_and_the_tenants_short_domain(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        await set_tenant_settings(client, tenant, short_link_domain="go.shop.example")
        (contact_id,) = await add_contacts(db, tenant.id, {"first_name": "Ada"})
        campaign_id = str(uuid4())
        link = await make_link(
            client,
            tenant,
            campaign_id=campaign_id,
            contact_id=str(contact_id),
            utm={"campaign": "june", "term": "hats"},
            discount_code="JUNE",
            expires_in_days=7,
        )
        assert link["short_url"] == f"https://go.shop.example/l/{link['token']}"
        assert (link["campaign_id"], link["contact_id"]) == (campaign_id, str(contact_id))
        assert link["utm"]["campaign"] == "june" and link["utm"]["source"] == "herald"
        assert link["discount_code"] == "JUNE"
        assert _days_between(link["created_at"], link["expires_at"]) == 7

    @pytest.mark.parametrize(
        "target",
        [
            "javascript:alert(document.cookie)",
            "ftp://files.example/x",
            "data:text/html;base64,PHNjcmlwdD4=",
            "https://",
            "shop.example/sale",
            "https://admin:hunter2@shop.example/",
            "https://shop.example/" + "x" * 2100,
        ],
    )
    async def test_unsafe_targets_are_422(
        self, client: httpx.AsyncClient, tenant: TenantFixture, target: str
    ) -> None:
        response = await client.post(
            "/v1/links", json={"target_url": target}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "target_url"

    @pytest.mark.parametrize(
        "body",
        [
            {"target_url": "https://a.example", "colour": "red"},
            {"target_url": "https://a.example", "utm": {"source": "x", "id": "y"}},
            {"target_url": "https://a.example", "utm": {"source": "x" * 201}},
            {"target_url": "https://a.example", "expires_in_days": 0},
            {"target_url": "https://a.example", "discount_code": ""},
        ],
    )
    async def test_unknown_or_out_of_bounds_fields_are_422(
        self, client: httpx.AsyncClient, tenant: TenantFixture, body: dict[str, Any]
    ) -> None:
        response = await client.post("/v1/links", json=body, headers=tenant.headers)
        assert response.status_code == 422

    async def test_another_tenants_contact_is_422(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        db: Database,
    ) -> None:
        (theirs,) = await add_contacts(db, other_tenant.id, {"first_name": "Bo"})
        response = await client.post(
            "/v1/links",
            json={"target_url": "https://a.example", "contact_id": str(theirs)},
            headers=tenant.headers,
        )
        assert response.status_code == 422
        assert "contact" in response.json()["detail"]

    async def test_an_agent_may_not_create_links(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        headers = await tenant.key_for(Role.agent)
        response = await client.post(
            "/v1/links", json={"target_url": "https://a.example"}, headers=headers
        )
        assert response.status_code == 403

    async def test_a_manager_may(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        headers = await tenant.key_for(Role.manager)
        response = await client.post(
            "/v1/links", json={"target_url": "https://a.example"}, headers=headers
        )
        assert response.status_code == 201


class TestRead:
    async def test_a_viewer_reads_and_lists(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        link = await make_link(client, tenant)
        headers = await tenant.key_for(Role.viewer)
        assert (await client.get(f"/v1/links/{link['id']}", headers=headers)).status_code == 200
        assert (await client.get("/v1/links", headers=headers)).status_code == 200

    async def test_without_credentials_is_401(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        link = await make_link(client, tenant)
        assert (await client.get(f"/v1/links/{link['id']}")).status_code == 401
        assert (await client.get("/v1/links")).status_code == 401

    async def test_another_tenants_link_is_404_and_not_listed(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        link = await make_link(client, tenant)
        response = await client.get(f"/v1/links/{link['id']}", headers=other_tenant.headers)
        assert response.status_code == 404
        listed = await client.get("/v1/links", headers=other_tenant.headers)
        assert listed.json()["items"] == []
        assert (await read_link(client, tenant, link["id"]))["id"] == link["id"]

    async def test_lists_page_newest_first_and_filter(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        (contact_id,) = await add_contacts(db, tenant.id, {"first_name": "Ada"})
        campaign_id = str(uuid4())
        made = [await make_link(client, tenant, campaign_id=campaign_id) for _ in range(3)]
        mine = await make_link(client, tenant, contact_id=str(contact_id))
        await make_link(client, tenant)

        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/v1/links", params=params, headers=tenant.headers)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 5 and seen == sorted(seen, reverse=True)

        by_campaign = await client.get(
            "/v1/links", params={"campaign_id": campaign_id}, headers=tenant.headers
        )
        assert [i["id"] for i in by_campaign.json()["items"]] == [m["id"] for m in made[::-1]]
        by_contact = await client.get(
            "/v1/links", params={"contact_id": str(contact_id)}, headers=tenant.headers
        )
        assert [i["id"] for i in by_contact.json()["items"]] == [mine["id"]]


def _days_between(start: str, end: str) -> int:
    return round(
        (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 86400
    )
