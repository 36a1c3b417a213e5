"""Contacts API: formats, duplicates, fields, list, bulk tags, tenant isolation, roles."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest

from herald.kit.context import Role
from tests.conftest import MakeTenant, TenantFixture
from tests.contact.helpers import create_contact, us_number


class TestCreate:
    @pytest.mark.parametrize(
        ("raw", "country", "expected"),
        [
            ("(415) 555-2671", None, "+14155552671"),
            ("+44 7911 123456", None, "+447911123456"),
            ("07911 123456", "GB", "+447911123456"),
            ("06 12 34 56 78", "fr", "+33612345678"),
            ("00447911123456", "FR", "+447911123456"),
        ],
    )
    async def test_formats(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        raw: str,
        country: str | None,
        expected: str,
    ) -> None:
        body: dict[str, Any] = {"phone": raw}
        if country:
            body["country"] = country
        response = await client.post("/v1/contacts", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text
        assert response.json()["phone_e164"] == expected

    async def test_national_format_uses_tenant_country(
        self, client: httpx.AsyncClient, other_tenant: TenantFixture
    ) -> None:
        response = await client.post(
            "/v1/contacts", json={"phone": "07911 123456"}, headers=other_tenant.headers
        )
        assert response.status_code == 201
        assert response.json()["phone_e164"] == "+447911123456"

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("12", "too short"),
            ("hello", "not a phone number"),
            ("+1 415 555 26719999", "too long"),
            ("+1 099 555 2671", "not a valid number for region"),
            ("+999 123", "unknown country code"),
        ],
    )
    async def test_invalid_numbers(
        self, client: httpx.AsyncClient, tenant: TenantFixture, raw: str, reason: str
    ) -> None:
        response = await client.post("/v1/contacts", json={"phone": raw}, headers=tenant.headers)
        assert response.status_code == 422
        assert reason in response.json()["detail"]
        assert response.json()["detail"].startswith("phone:")

    async def test_all_fields(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        contact = await create_contact(
            client,
            tenant,
            email="Ada@Example.com",
            first_name="Ada",
            last_name="Lovelace",
            gender="female",
            birth_date="1990-12-10",
            timezone="Europe/London",
            language="en",
            company="Analytical",
            tags=["vip", "vip", "newsletter"],
            custom_fields={"shoe_size": 38, "colors": ["red", "blue"], "member": True},
            source="shopify",
        )
        again = await client.get(f"/v1/contacts/{contact['id']}", headers=tenant.headers)
        body = again.json()
        assert body["tags"] == ["vip", "newsletter"]
        assert body["custom_fields"] == {"shoe_size": 38, "colors": ["red", "blue"], "member": True}
        assert body["birth_date"] == "1990-12-10"
        assert body["source"] == "shopify"
        assert body["do_not_contact"] is False
        assert body["sms_status"] == "unknown"

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"custom_fields": {"bad key": 1}}, "custom field name"),
            ({"custom_fields": {"k" * 65: 1}}, "at most 64"),
            ({"custom_fields": {"nested": {"a": 1}}}, "string, number, boolean"),
            ({"custom_fields": {"nested": [[1]]}}, "string, number, boolean"),
            ({"email": "not-an-email"}, "email"),
            ({"timezone": "Mars/Base"}, "IANA"),
            ({"tags": [""]}, "tags"),
        ],
    )
    async def test_invalid_fields(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        fields: dict[str, Any],
        message: str,
    ) -> None:
        response = await client.post(
            "/v1/contacts", json={"phone": us_number(), **fields}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert message in response.json()["detail"]

    async def test_duplicate_phone_names_the_existing_contact(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        existing = await create_contact(client, tenant, phone="+1 415 555 2671")
        response = await client.post(
            "/v1/contacts", json={"phone": "(415) 555-2671"}, headers=tenant.headers
        )
        assert response.status_code == 409
        assert existing["id"] in response.json()["detail"]
        assert response.json()["existing_id"] == existing["id"]

    async def test_duplicate_email_is_case_insensitive(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        existing = await create_contact(client, tenant, email="dup@example.com")
        response = await client.post(
            "/v1/contacts",
            json={"phone": us_number(), "email": "DUP@example.com"},
            headers=tenant.headers,
        )
        assert response.status_code == 409
        assert "and an email belongs to one contact" in response.json()["detail"]
        assert existing["id"] in response.json()["detail"]

    async def test_same_phone_in_another_tenant_is_fine(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        await create_contact(client, tenant, phone="+14155552671")
        response = await client.post(
            "/v1/contacts", json={"phone": "+14155552671"}, headers=other_tenant.headers
        )
        assert response.status_code == 201

    async def test_viewer_cannot_create(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        headers = await tenant.key_for(Role.viewer)
        response = await client.post("/v1/contacts", json={"phone": us_number()}, headers=headers)
        assert response.status_code == 403
        listed = await client.get("/v1/contacts", headers=headers)
        assert listed.json()["items"] == []


class TestReadUpdateDelete:
    async def test_viewer_reads(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        contact = await create_contact(client, tenant)
        headers = await tenant.key_for(Role.viewer)
        response = await client.get(f"/v1/contacts/{contact['id']}", headers=headers)
        assert response.status_code == 200
        assert response.json()["phone_e164"] == contact["phone_e164"]

    async def test_unknown_contact(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.get(f"/v1/contacts/{uuid4()}", headers=tenant.headers)
        assert response.status_code == 404

    async def test_update(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        contact = await create_contact(client, tenant, first_name="Old", tags=["a"])
        response = await client.patch(
            f"/v1/contacts/{contact['id']}",
            json={"first_name": "New", "phone": "0612345678", "country": "FR", "tags": None},
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["first_name"] == "New"
        assert body["phone_e164"] == "+33612345678"
        assert body["tags"] == []

    async def test_update_to_a_taken_phone(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        first = await create_contact(client, tenant)
        second = await create_contact(client, tenant)
        response = await client.patch(
            f"/v1/contacts/{second['id']}",
            json={"phone": first["phone_e164"]},
            headers=tenant.headers,
        )
        assert response.status_code == 409
        assert first["id"] in response.json()["detail"]

    async def test_update_invalid_phone(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant)
        response = await client.patch(
            f"/v1/contacts/{contact['id']}", json={"phone": "123"}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "too short" in response.json()["detail"]

    async def test_delete(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        contact = await create_contact(client, tenant, sms_status="opted_in")
        response = await client.delete(f"/v1/contacts/{contact['id']}", headers=tenant.headers)
        assert response.status_code == 204
        gone = await client.get(f"/v1/contacts/{contact['id']}", headers=tenant.headers)
        assert gone.status_code == 404
        dnc = await client.get("/v1/dnc", headers=tenant.headers)
        assert contact["phone_e164"] not in {e["phone_e164"] for e in dnc.json()["items"]}

    async def test_delete_keeps_an_opt_out(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        """Deleting and re-creating a contact must not undo its opt-out."""
        contact = await create_contact(client, tenant, sms_status="opted_out")
        await client.delete(f"/v1/contacts/{contact['id']}", headers=tenant.headers)
        again = await create_contact(
            client, tenant, phone=contact["phone_e164"], sms_status="opted_in"
        )
        assert again["do_not_contact"] is True

    async def test_other_tenant_sees_404_and_changes_nothing(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant, first_name="Mine")
        url = f"/v1/contacts/{contact['id']}"
        theirs = other_tenant.headers
        assert (await client.get(url, headers=theirs)).status_code == 404
        patched = await client.patch(url, json={"first_name": "Theirs"}, headers=theirs)
        assert patched.status_code == 404
        assert (await client.delete(url, headers=theirs)).status_code == 404
        assert (await client.delete(f"{url}?erase=true", headers=theirs)).status_code == 404
        assert (await client.get(f"{url}/export", headers=theirs)).status_code == 404
        assert (await client.get(f"{url}/consent", headers=theirs)).status_code == 404
        consent = await client.post(
            f"{url}/consent", json={"channel": "sms", "status": "opted_in"}, headers=theirs
        )
        assert consent.status_code == 404
        mine = await client.get(url, headers=tenant.headers)
        assert mine.json()["first_name"] == "Mine"
        assert mine.json()["sms_status"] == "unknown"
        listed = await client.get("/v1/contacts", headers=theirs)
        assert contact["id"] not in {c["id"] for c in listed.json()["items"]}

    async def test_viewer_cannot_write(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant, first_name="Kept")
        url = f"/v1/contacts/{contact['id']}"
        headers = await tenant.key_for(Role.viewer)
        assert (
            await client.patch(url, json={"first_name": "X"}, headers=headers)
        ).status_code == 403
        assert (await client.delete(url, headers=headers)).status_code == 403
        consent = await client.post(
            f"{url}/consent", json={"channel": "sms", "status": "opted_in"}, headers=headers
        )
        assert consent.status_code == 403
        bulk = await client.post(
            "/v1/contacts/bulk/tags", json={"add": ["x"], "all": True}, headers=headers
        )
        assert bulk.status_code == 403
        assert (await client.get(url, headers=tenant.headers)).json()["first_name"] == "Kept"


class TestList:
    async def test_pages_without_repeats(
        self, client: httpx.AsyncClient, make_tenant: MakeTenant
    ) -> None:
        shop = await make_tenant()
        names = ["Brown", None, "adams", "Clark", None, "Brown", "Zed"]
        created = {(await create_contact(client, shop, last_name=n))["id"] for n in names}
        for sort in ("created_at", "updated_at", "last_name", "last_message_at"):
            for order in ("asc", "desc"):
                seen: list[str] = []
                cursor = None
                while True:
                    params: dict[str, Any] = {"limit": 2, "sort": sort, "order": order}
                    if cursor:
                        params["cursor"] = cursor
                    page = await client.get("/v1/contacts", params=params, headers=shop.headers)
                    assert page.status_code == 200, page.text
                    seen += [c["id"] for c in page.json()["items"]]
                    cursor = page.json()["next_cursor"]
                    if cursor is None:
                        break
                assert len(seen) == len(set(seen)) == len(created), (sort, order)
                assert set(seen) == created

    async def test_sorted_by_last_name(
        self, client: httpx.AsyncClient, make_tenant: MakeTenant
    ) -> None:
        shop = await make_tenant()
        for name in ("Mills", "Abbot", "Young"):
            await create_contact(client, shop, last_name=name)
        page = await client.get(
            "/v1/contacts", params={"sort": "last_name", "order": "desc"}, headers=shop.headers
        )
        assert [c["last_name"] for c in page.json()["items"]] == ["Young", "Mills", "Abbot"]

    async def test_filters(self, client: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
        shop = await make_tenant()
        vip = await create_contact(
            client, shop, tags=["vip"], sms_status="opted_in", source="form", first_name="Zoe"
        )
        other = await create_contact(
            client, shop, whatsapp_status="opted_out", email="maria@example.org"
        )
        phone = await create_contact(client, shop, phone="+14155550199")

        async def ids(**params: Any) -> set[str]:
            page = await client.get("/v1/contacts", params=params, headers=shop.headers)
            assert page.status_code == 200, page.text
            return {c["id"] for c in page.json()["items"]}

        assert await ids(tag="vip") == {vip["id"]}
        assert await ids(sms_status="opted_in") == {vip["id"]}
        assert await ids(whatsapp_status="opted_out") == {other["id"]}
        assert await ids(source="form") == {vip["id"]}
        assert await ids(q="zo") == {vip["id"]}
        assert await ids(q="MARIA@EX") == {other["id"]}
        assert await ids(q="+1 415 555 01") == {phone["id"]}
        assert await ids(q="%") == set()
        assert await ids(created_after=vip["created_at"]) == {vip["id"], other["id"], phone["id"]}
        assert await ids(created_before=vip["created_at"]) == set()

    async def test_bad_cursor_and_sort(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        bad = await client.get("/v1/contacts?cursor=nope", headers=tenant.headers)
        assert bad.status_code == 400
        assert "cursor" in bad.json()["detail"]
        sort = await client.get("/v1/contacts?sort=phone", headers=tenant.headers)
        assert sort.status_code == 422
        assert "sort" in sort.json()["detail"]
        blank = await client.get("/v1/contacts", params={"tag": "  "}, headers=tenant.headers)
        assert blank.status_code == 422
        assert "tag" in blank.json()["detail"]


class TestBulkTags:
    async def test_add_and_remove_over_a_filter(
        self, client: httpx.AsyncClient, make_tenant: MakeTenant
    ) -> None:
        shop = await make_tenant()
        a = await create_contact(client, shop, tags=["old", "keep"], source="form")
        b = await create_contact(client, shop, tags=["new"], source="form")
        c = await create_contact(client, shop, tags=["old"], source="api")
        response = await client.post(
            "/v1/contacts/bulk/tags",
            json={"add": ["new"], "remove": ["old"], "filter": {"source": "form"}},
            headers=shop.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"matched": 2, "changed": 1}

        async def tags(contact: dict[str, Any]) -> list[str]:
            got = await client.get(f"/v1/contacts/{contact['id']}", headers=shop.headers)
            result: list[str] = got.json()["tags"]
            return result

        assert await tags(a) == ["keep", "new"]
        assert await tags(b) == ["new"]
        assert await tags(c) == ["old"]
        audit = await client.get(
            "/v1/audit-log", params={"action": "contact.tags_bulk_updated"}, headers=shop.headers
        )
        assert audit.status_code == 200, audit.text
        [entry] = audit.json()["items"]
        assert entry["changes"]["changed"] == 1
        assert entry["changes"]["filter"] == ["source"]
        assert "new" not in str(entry["changes"]) and "form" not in str(entry["changes"])

    async def test_other_tenant_untouched(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        mine = await create_contact(client, tenant, tags=["x"])
        response = await client.post(
            "/v1/contacts/bulk/tags",
            json={"remove": ["x"], "all": True},
            headers=other_tenant.headers,
        )
        assert response.json()["changed"] == 0
        got = await client.get(f"/v1/contacts/{mine['id']}", headers=tenant.headers)
        assert got.json()["tags"] == ["x"]

    async def test_nothing_to_do(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.post(
            "/v1/contacts/bulk/tags", json={"add": [], "filter": {}}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "tags to add" in response.json()["detail"]
        unknown = await client.post(
            "/v1/contacts/bulk/tags",
            json={"add": ["a"], "filter": {"colour": "red"}},
            headers=tenant.headers,
        )
        assert unknown.status_code == 422
        assert "colour" in unknown.json()["detail"]

    async def test_everyone_must_be_said_out_loud(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        """A misspelled selector used to be ignored and tag every contact of the tenant."""
        contact = await create_contact(client, tenant)
        url = f"/v1/contacts/{contact['id']}"
        misspelled = await client.post(
            "/v1/contacts/bulk/tags",
            json={"add": ["vip"], "contact_ids": [contact["id"]]},
            headers=tenant.headers,
        )
        assert misspelled.status_code == 422
        assert misspelled.json()["errors"] == [
            {"field": "contact_ids", "message": "Extra inputs are not permitted"}
        ]
        bare = await client.post(
            "/v1/contacts/bulk/tags", json={"add": ["vip"]}, headers=tenant.headers
        )
        assert bare.status_code == 422
        assert '"all": true' in bare.json()["detail"]
        both = await client.post(
            "/v1/contacts/bulk/tags",
            json={"add": ["vip"], "all": True, "filter": {"source": "api"}},
            headers=tenant.headers,
        )
        assert both.status_code == 422
        assert (await client.get(url, headers=tenant.headers)).json()["tags"] == []
        everyone = await client.post(
            "/v1/contacts/bulk/tags", json={"add": ["vip"], "all": True}, headers=tenant.headers
        )
        assert everyone.json() == {"matched": 1, "changed": 1}
        assert (await client.get(url, headers=tenant.headers)).json()["tags"] == ["vip"]
