"""The do-not-contact list and suppression rules over the API."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
from sqlalchemy import select

from herald.contact.dnc_hash import phone_hash
from herald.contact.models import Contact
from herald.kit.context import Role
from herald.kit.database import Database
from tests.conftest import MakeTenant, TenantFixture
from tests.contact.helpers import create_contact


class TestDnc:
    async def test_add_one_flags_the_contact(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant, phone="+14155552671")
        response = await client.post(
            "/v1/dnc",
            json={"phone": "(415) 555-2671", "reason": "complaint", "note": "called support"},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
        assert response.json()["phone_e164"] == "+14155552671"
        assert response.json()["reason"] == "complaint"
        got = await client.get(f"/v1/contacts/{contact['id']}", headers=tenant.headers)
        assert got.json()["do_not_contact"] is True
        again = await client.post("/v1/dnc", json={"phone": "+14155552671"}, headers=tenant.headers)
        assert again.status_code == 409
        assert "complaint" in again.json()["detail"]

    async def test_reason_erased_is_not_for_callers(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        response = await client.post(
            "/v1/dnc", json={"phone": "+14155552671", "reason": "erased"}, headers=tenant.headers
        )
        assert response.status_code == 422

    async def test_invalid_number(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.post("/v1/dnc", json={"phone": "555"}, headers=tenant.headers)
        assert response.status_code == 422
        assert "too short" in response.json()["detail"]

    async def test_bulk_reports_bad_numbers(
        self, client: httpx.AsyncClient, make_tenant: MakeTenant
    ) -> None:
        shop = await make_tenant(country="GB")
        await client.post("/v1/dnc", json={"phone": "+447911123456"}, headers=shop.headers)
        phones = ["07911 123456", "07911 123457", "+44 7911 123457", "hello", "12", "+447911123458"]
        response = await client.post(
            "/v1/dnc/bulk", json={"phones": phones, "reason": "stop"}, headers=shop.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["added"] == 2
        assert body["already_present"] == 1
        assert body["rejected"] == [
            {"phone": "hello", "reason": "not a phone number"},
            {"phone": "12", "reason": "too short"},
        ]
        listed = await client.get("/v1/dnc", params={"reason": "stop"}, headers=shop.headers)
        assert {e["phone_e164"] for e in listed.json()["items"]} == {
            "+447911123457",
            "+447911123458",
        }

    async def test_list_pages(self, client: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
        shop = await make_tenant()
        phones = [f"+1415555{n:04d}" for n in range(2600, 2605)]
        await client.post("/v1/dnc/bulk", json={"phones": phones}, headers=shop.headers)
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 2}
        while True:
            page = await client.get("/v1/dnc", params=params, headers=shop.headers)
            seen += [e["phone_e164"] for e in page.json()["items"]]
            if not page.json()["next_cursor"]:
                break
            params["cursor"] = page.json()["next_cursor"]
        assert sorted(seen) == phones

    async def test_remove(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        contact = await create_contact(client, tenant, phone="+14155552671")
        await client.post("/v1/dnc", json={"phone": "+14155552671"}, headers=tenant.headers)
        response = await client.delete("/v1/dnc/%2B14155552671", headers=tenant.headers)
        assert response.status_code == 204
        got = await client.get(f"/v1/contacts/{contact['id']}", headers=tenant.headers)
        assert got.json()["do_not_contact"] is False
        missing = await client.delete("/v1/dnc/%2B14155552671", headers=tenant.headers)
        assert missing.status_code == 404

    async def test_bulk_remove(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        await client.post(
            "/v1/dnc/bulk",
            json={"phones": ["+14155552671", "+14155552672"]},
            headers=tenant.headers,
        )
        response = await client.post(
            "/v1/dnc/bulk-remove",
            json={"phones": ["+14155552671", "(415) 555-2672", "+14155552673", "x"]},
            headers=tenant.headers,
        )
        assert response.status_code == 200
        assert response.json() == {
            "removed": 2,
            "not_found": 1,
            "rejected": [{"phone": "x", "reason": "not a phone number"}],
        }

    async def test_erased_entries_stay(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant, phone="+14155552671")
        erased = await client.delete(
            f"/v1/contacts/{contact['id']}?erase=true", headers=tenant.headers
        )
        assert erased.status_code == 204
        response = await client.delete("/v1/dnc/+14155552671", headers=tenant.headers)
        assert response.status_code == 409
        assert "forgotten" in response.json()["detail"]
        bulk = await client.post(
            "/v1/dnc/bulk-remove", json={"phones": ["+14155552671"]}, headers=tenant.headers
        )
        assert bulk.json()["removed"] == 0
        assert "forgotten" in bulk.json()["rejected"][0]["reason"]
        listed = await client.get("/v1/dnc", params={"reason": "erased"}, headers=tenant.headers)
        [entry] = listed.json()["items"]
        assert entry["phone_e164"] is None

    async def test_other_tenant(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        await client.post("/v1/dnc", json={"phone": "+14155552671"}, headers=tenant.headers)
        theirs = other_tenant.headers
        listed = await client.get("/v1/dnc", headers=theirs)
        assert listed.json()["items"] == []
        assert (await client.delete("/v1/dnc/+14155552671", headers=theirs)).status_code == 404
        bulk = await client.post(
            "/v1/dnc/bulk-remove", json={"phones": ["+14155552671"]}, headers=theirs
        )
        assert bulk.json()["removed"] == 0
        mine = await client.get("/v1/dnc", headers=tenant.headers)
        [entry] = mine.json()["items"]
        assert entry["phone_e164"] == "+14155552671"

    async def test_viewer(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        await client.post("/v1/dnc", json={"phone": "+14155552671"}, headers=tenant.headers)
        headers = await tenant.key_for(Role.viewer)
        assert (await client.get("/v1/dnc", headers=headers)).status_code == 200
        for method, url, body in [
            ("POST", "/v1/dnc", {"phone": "+14155552672"}),
            ("POST", "/v1/dnc/bulk", {"phones": ["+14155552672"]}),
            ("POST", "/v1/dnc/bulk-remove", {"phones": ["+14155552671"]}),
            ("DELETE", "/v1/dnc/+14155552671", None),
        ]:
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == 403, url
        listed = await client.get("/v1/dnc", headers=tenant.headers)
        assert [e["phone_e164"] for e in listed.json()["items"]] == ["+14155552671"]

    def test_hash_is_per_tenant(self) -> None:
        a, b = uuid4(), uuid4()
        assert phone_hash(a, "+14155552671") != phone_hash(b, "+14155552671")

    async def test_stored_hash_follows_the_number(
        self, client: httpx.AsyncClient, db: Database, make_tenant: MakeTenant
    ) -> None:
        """PostgreSQL's ``contacts.phone_hash`` is Python's hash, per tenant, through an edit
        and an erasure (the number's hash goes with the number)."""
        shop, other = await make_tenant(), await make_tenant()
        mine = await create_contact(client, shop, phone="+14155552671")
        theirs = await create_contact(client, other, phone="+14155552671")

        async def stored(contact_id: str) -> str | None:
            async with db.system_session() as session:
                found: str | None = await session.scalar(
                    select(Contact.phone_hash).where(Contact.id == contact_id)
                )
                return found

        assert await stored(mine["id"]) == phone_hash(shop.id, "+14155552671")
        assert await stored(theirs["id"]) == phone_hash(other.id, "+14155552671")
        url = f"/v1/contacts/{mine['id']}"
        edited = await client.patch(url, json={"phone": "+14155552672"}, headers=shop.headers)
        assert edited.status_code == 200, edited.text
        assert await stored(mine["id"]) == phone_hash(shop.id, "+14155552672")
        erased = await client.delete(f"{url}?erase=true", headers=shop.headers)
        assert erased.status_code == 204, erased.text
        assert await stored(mine["id"]) is None
        assert await stored(theirs["id"]) == phone_hash(other.id, "+14155552671")


class TestSuppressionRules:
    async def test_crud(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        created = await client.post(
            "/v1/suppression-rules",
            json={"name": "Weekly cap", "window_days": 7, "channel": "sms"},
            headers=tenant.headers,
        )
        assert created.status_code == 201, created.text
        rule = created.json()
        url = f"/v1/suppression-rules/{rule['id']}"
        patched = await client.patch(
            url,
            json={"window_days": 14, "channel": None, "is_active": False},
            headers=tenant.headers,
        )
        assert patched.status_code == 200
        assert (patched.json()["window_days"], patched.json()["channel"]) == (14, None)
        assert patched.json()["is_active"] is False
        listed = await client.get("/v1/suppression-rules", headers=tenant.headers)
        assert [r["id"] for r in listed.json()["items"]] == [rule["id"]]
        assert (await client.delete(url, headers=tenant.headers)).status_code == 204
        assert (await client.get(url, headers=tenant.headers)).status_code == 404

    async def test_window_bounds(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        for days in (0, 3651):
            response = await client.post(
                "/v1/suppression-rules",
                json={"name": "x", "window_days": days},
                headers=tenant.headers,
            )
            assert response.status_code == 422
            assert "window_days" in response.json()["detail"]

    async def test_other_tenant_and_viewer(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        created = await client.post(
            "/v1/suppression-rules", json={"name": "Mine"}, headers=tenant.headers
        )
        url = f"/v1/suppression-rules/{created.json()['id']}"
        theirs = other_tenant.headers
        assert (await client.get(url, headers=theirs)).status_code == 404
        assert (await client.patch(url, json={"name": "X"}, headers=theirs)).status_code == 404
        assert (await client.delete(url, headers=theirs)).status_code == 404
        assert (await client.get("/v1/suppression-rules", headers=theirs)).json()["items"] == []
        viewer = await tenant.key_for(Role.viewer)
        assert (await client.get(url, headers=viewer)).status_code == 200
        assert (await client.patch(url, json={"name": "X"}, headers=viewer)).status_code == 403
        assert (await client.delete(url, headers=viewer)).status_code == 403
        posted = await client.post("/v1/suppression-rules", json={"name": "V"}, headers=viewer)
        assert posted.status_code == 403
        assert (await client.get(url, headers=tenant.headers)).json()["name"] == "Mine"
