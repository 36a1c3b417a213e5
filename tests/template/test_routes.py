"""The /v1/templates API: CRUD, validation on save, previews, tenants and roles."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select

from herald.contact.models import Contact
from herald.kit.context import Role
from herald.kit.database import Database
from herald.template.models import Template
from herald.template.service import record_use
from tests.conftest import TenantFixture

GREETING = 'Hi {{ first_name | default("there") }}, {{ business_name }} sale: {{ link }}'


async def create(client: httpx.AsyncClient, tenant: TenantFixture, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Greeting")
    body.setdefault("body", GREETING)
    response = await client.post("/v1/templates", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def add_contact(db: Database, tenant_id: UUID, phone: str, **fields: Any) -> UUID:
    async with db.tenant_session(tenant_id) as session:
        contact = Contact(tenant_id=tenant_id, phone_e164=phone, **fields)
        session.add(contact)
        await session.flush()
        return contact.id


async def preview(
    client: httpx.AsyncClient, tenant: TenantFixture, template_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/templates/{template_id}/preview", json=body, headers=tenant.headers
    )


class TestCrud:
    async def test_create_read_update_delete(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant, category="promo", tags=["sale"])
        assert made["kind"] == "sms" and made["purpose"] == "marketing"
        assert made["variables"] == ["business_name", "first_name", "link"]
        assert made["warnings"]  # the footer will be appended
        url = f"/v1/templates/{made['id']}"
        assert (await client.get(url, headers=tenant.headers)).json()["body"] == GREETING
        changed = await client.patch(
            url,
            json={"name": "Hello", "body": "Hello {{ first_name }}. Reply STOP to opt out"},
            headers=tenant.headers,
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["name"] == "Hello"
        assert changed.json()["variables"] == ["first_name"]
        assert changed.json()["warnings"] == []
        assert (await client.delete(url, headers=tenant.headers)).status_code == 204
        assert (await client.get(url, headers=tenant.headers)).status_code == 404

    async def test_duplicate_name(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        await create(client, tenant)
        response = await client.post(
            "/v1/templates", json={"name": "Greeting", "body": "x"}, headers=tenant.headers
        )
        assert response.status_code == 409

    async def test_patch_is_checked_like_a_create(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        await create(client, tenant, name="Taken")
        made = await create(client, tenant, name="Mine", category="promo", tags=["a"])
        url = f"/v1/templates/{made['id']}"
        for body, status in (
            ({"name": "Taken"}, 409),
            ({"body": "{{ nickname }}"}, 422),
            ({"body": "{% include 'x' %}"}, 422),
            ({"body": None}, 422),
            ({"kind": "sms"}, 422),
        ):
            response = await client.patch(url, json=body, headers=tenant.headers)
            assert response.status_code == status, (body, response.text)
        cleared = await client.patch(
            url, json={"category": None, "tags": None, "language": "de"}, headers=tenant.headers
        )
        assert (cleared.json()["category"], cleared.json()["tags"]) == (None, [])
        assert cleared.json()["language"] == "de"

    async def test_unknown_fields_and_sizes_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        for body in (
            {"name": "A", "body": "x", "colour": "red"},
            {"name": "A", "body": "x" * 5001},
            {"name": "", "body": "x"},
            {"name": "A", "body": "x", "tags": ["t"] * 21},
        ):
            response = await client.post("/v1/templates", json=body, headers=tenant.headers)
            assert response.status_code == 422, body

    async def test_syntax_error_gives_line_and_column(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        response = await client.post(
            "/v1/templates",
            json={"name": "Bad", "body": "Hi\n{{ first_name last_name }}"},
            headers=tenant.headers,
        )
        assert response.status_code == 422
        problem = response.json()
        assert (problem["line"], problem["column"]) == (2, 15)
        assert "line 2, column 15" in problem["detail"]

    async def test_unknown_variables_listed(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        response = await client.post(
            "/v1/templates",
            json={"name": "Bad", "body": "{{ nickname }} {{ custom.nickname }} {{ points }}"},
            headers=tenant.headers,
        )
        assert response.status_code == 422
        assert response.json()["unknown_variables"] == ["nickname", "points"]

    async def test_list_filters_and_pages(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        await create(client, tenant, name="Promo A", category="promo", tags=["sale"])
        await create(client, tenant, name="promo B", category="promo", tags=["vip"])
        await create(client, tenant, name="Receipt", category="orders", purpose="transactional")

        async def names(**params: Any) -> list[str]:
            response = await client.get("/v1/templates", params=params, headers=tenant.headers)
            assert response.status_code == 200
            return [t["name"] for t in response.json()["items"]]

        assert await names(name="PROMO") == ["Promo A", "promo B"]
        assert await names(category="orders") == ["Receipt"]
        assert await names(tag="vip") == ["promo B"]
        assert await names(name="100%_") == []
        first = await client.get("/v1/templates?limit=2", headers=tenant.headers)
        second = await client.get(
            f"/v1/templates?limit=2&cursor={first.json()['next_cursor']}", headers=tenant.headers
        )
        assert [t["name"] for t in second.json()["items"]] == ["promo B"]

    async def test_other_tenant_sees_nothing(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        url = f"/v1/templates/{made['id']}"
        headers = other_tenant.headers
        assert (await client.get(url, headers=headers)).status_code == 404
        assert (await client.patch(url, json={"name": "X"}, headers=headers)).status_code == 404
        assert (await client.delete(url, headers=headers)).status_code == 404
        assert (await preview(client, other_tenant, made["id"])).status_code == 404
        listed = await client.get("/v1/templates", headers=headers)
        assert listed.json()["items"] == []
        assert (await client.get(url, headers=tenant.headers)).json()["name"] == "Greeting"

    async def test_row_level_security_without_a_filter(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        db: Database,
    ) -> None:
        made = await create(client, tenant)
        async with db.tenant_session(other_tenant.id) as session:
            assert (await session.scalars(select(Template))).all() == []
        async with db.tenant_session(tenant.id) as session:
            assert [t.id for t in await session.scalars(select(Template))] == [UUID(made["id"])]

    async def test_writes_need_manager(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        agent = await tenant.key_for(Role.agent)
        url = f"/v1/templates/{made['id']}"
        body = {"name": "New", "body": "x"}
        assert (await client.post("/v1/templates", json=body, headers=agent)).status_code == 403
        assert (await client.patch(url, json=body, headers=agent)).status_code == 403
        assert (await client.delete(url, headers=agent)).status_code == 403

    async def test_reads_and_previews_for_viewers(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        viewer = await tenant.key_for(Role.viewer)
        assert (await client.get("/v1/templates", headers=viewer)).status_code == 200
        url = f"/v1/templates/{made['id']}/preview"
        assert (await client.post(url, json={}, headers=viewer)).status_code == 200
        assert (await client.get("/v1/templates")).status_code == 401


class TestPreview:
    async def test_for_a_contact(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        contact_id = await add_contact(
            db, tenant.id, "+14155550100", first_name="Ann", custom_fields={"size": "M"}
        )
        made = await create(client, tenant, body="Hi {{ first_name }}, size {{ custom.size }}!")
        response = await preview(client, tenant, made["id"], contact_id=str(contact_id))
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["text"] == "Hi Ann, size M!\nReply STOP to opt out"
        assert data["footer_appended"] is True
        assert (data["encoding"], data["segments"]) == ("GSM-7", 1)
        assert data["characters"] == len(data["text"])
        assert data["cost"]["currency"] and data["cost"]["per"] == "segment"
        assert data["warnings"] == []

    async def test_other_tenants_contact_is_not_found(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        db: Database,
    ) -> None:
        theirs = await add_contact(db, other_tenant.id, "+447700900123", first_name="Zed")
        made = await create(client, tenant)
        response = await preview(client, tenant, made["id"], contact_id=str(theirs))
        assert response.status_code == 404

    async def test_sample_values_link_and_discount(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(
            client,
            tenant,
            body="{{ first_name }} {{ custom.plan }} {{ discount_code }} {{ link }} {{ opt_out }}",
        )
        response = await preview(
            client,
            tenant,
            made["id"],
            sample={"first_name": "Jo", "custom.plan": "gold"},
            discount_code="JO5",
        )
        data = response.json()
        assert data["text"].startswith("Jo gold JO5 http")
        assert "/l/PREVIEW Reply STOP to opt out" in data["text"]
        assert data["footer_appended"] is False

    async def test_settings_shape_link_name_and_footer(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        settings = {
            "business_name": "Ann's Bakery",
            "short_link_domain": "go.bakery.example",
            "default_language": "fr",
            "opt_out_footer": {"en": "Reply STOP to opt out", "fr": "STOP au 36111"},
        }
        changed = await client.patch(
            "/v1/tenant", json={"settings": settings}, headers=tenant.headers
        )
        assert changed.status_code == 200, changed.text
        made = await create(client, tenant, body="{{ business_name }}: {{ link }}")
        data = (await preview(client, tenant, made["id"], sample={"language": None})).json()
        assert data["text"] == "Ann's Bakery: https://go.bakery.example/l/PREVIEW\nSTOP au 36111"

    async def test_builtin_sample_and_unicode(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant, body="Привет {{ first_name }}", purpose="transactional")
        data = (await preview(client, tenant, made["id"])).json()
        assert data["text"] == "Привет Alex"
        assert (data["encoding"], data["segments"], data["footer_appended"]) == (
            "UCS-2",
            1,
            False,
        )

    async def test_empty_fields_warned(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        contact_id = await add_contact(db, tenant.id, "+14155550101")
        made = await create(client, tenant, body="Hi {{ first_name }} {{ custom.size }}")
        data = (await preview(client, tenant, made["id"], contact_id=str(contact_id))).json()
        assert len(data["warnings"]) == 2

    async def test_cost_uses_the_accounts_price_for_the_contacts_country(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        price = {"provider": "simulator", "kind": "sms", "country": "GB", "unit_price": "0.0075"}
        made_price = await client.post("/v1/costs", json=price, headers=tenant.headers)
        assert made_price.status_code == 201, made_price.text
        contact_id = await add_contact(db, tenant.id, "+447700900456", first_name="Sam")
        made = await create(client, tenant, body="{{ first_name }}: " + "x" * 160)
        data = (await preview(client, tenant, made["id"], contact_id=str(contact_id))).json()
        assert data["segments"] == 2
        assert data["cost"] == {
            "amount": "0.015000",
            "currency": "USD",
            "unit_price": "0.007500",
            "per": "segment",
        }

    async def test_unpriced_provider_gives_a_reason(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        data = (await preview(client, tenant, made["id"], provider="nobody-prices-this")).json()
        assert data["cost"] is None and data["cost_unavailable_reason"]

    async def test_unsaved_body(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        db: Database,
    ) -> None:
        contact_id = await add_contact(db, tenant.id, "+14155550102", first_name="Lee")
        body = {"body": "Hi {{ first_name }}", "contact_id": str(contact_id)}
        response = await client.post("/v1/templates/preview", json=body, headers=tenant.headers)
        assert response.status_code == 200, response.text
        assert response.json()["text"] == "Hi Lee\nReply STOP to opt out"
        transactional = {**body, "purpose": "transactional"}
        response = await client.post(
            "/v1/templates/preview", json=transactional, headers=tenant.headers
        )
        assert response.json()["text"] == "Hi Lee"
        theirs = await client.post("/v1/templates/preview", json=body, headers=other_tenant.headers)
        assert theirs.status_code == 404
        unknown = {"body": "Hi {{ nickname }}"}
        response = await client.post("/v1/templates/preview", json=unknown, headers=tenant.headers)
        assert response.status_code == 422
        assert (await client.post("/v1/templates/preview", json=unknown)).status_code == 401

    async def test_bad_sample_field(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        made = await create(client, tenant)
        response = await preview(client, tenant, made["id"], sample={"shoe": "42"})
        assert response.status_code == 422
        assert "shoe" in response.json()["detail"]

    @pytest.mark.timeout(20)
    async def test_render_limit_is_a_422(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        bomb = "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}"
        made = await create(client, tenant, body=bomb)
        response = await preview(client, tenant, made["id"])
        assert response.status_code == 422
        assert "steps" in response.json()["detail"]

    async def test_record_use_counts(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        made = await create(client, tenant)
        async with db.tenant_session(tenant.id) as session:
            await record_use(session, tenant.id, UUID(made["id"]), 250)
        read = await client.get(f"/v1/templates/{made['id']}", headers=tenant.headers)
        assert read.json()["use_count"] == 250 and read.json()["last_used_at"]
