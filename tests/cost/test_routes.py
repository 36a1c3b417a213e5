"""The /v1/costs API: the list, the tenant's overrides, quotes; tenants and roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from herald.contact.models import ConsentStatus
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.models import utcnow
from tests.conftest import TenantFixture
from tests.cost.helpers import add_numbers, add_price, provider

URL = "/v1/costs"


def override(name: str, country: str = "GB", price: str = "0.0300", **extra: Any) -> dict[str, Any]:
    return {"provider": name, "kind": "sms", "country": country, "unit_price": price, **extra}


async def create(
    client: httpx.AsyncClient, tenant: TenantFixture, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(URL, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def ids(client: httpx.AsyncClient, tenant: TenantFixture, **query: str) -> set[str]:
    response = await client.get(URL, params=query, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {p["id"] for p in response.json()["items"]}


class TestList:
    async def test_owner_filter_and_pages(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        mine = await create(
            client, tenant, override("twilio", "FR", valid_from=utcnow().isoformat())
        )
        query = {"provider": "twilio", "kind": "sms"}
        platform = await ids(client, tenant, owner="platform", **query)
        assert len(platform) == 13
        assert await ids(client, tenant, owner="tenant", **query) == {mine["id"]}
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = {**query, "limit": "5", **({"cursor": cursor} if cursor else {})}
            page = (await client.get(URL, params=params, headers=tenant.headers)).json()
            seen += [p["id"] for p in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                break
        assert sorted(seen) == sorted(platform | {mine["id"]})
        fr = (
            await client.get(URL, params={**query, "country": "FR"}, headers=tenant.headers)
        ).json()
        assert {(p["owner"], p["unit_price"]) for p in fr["items"]} == {
            ("platform", "0.085400"),
            ("tenant", "0.030000"),
        }

    async def test_in_effect_at(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        tomorrow = utcnow() + timedelta(days=1)
        later = await create(client, tenant, override(provider(), valid_from=tomorrow.isoformat()))
        name = later["provider"]
        assert await ids(client, tenant, provider=name, at=utcnow().isoformat()) == set()
        soon = (tomorrow + timedelta(hours=1)).isoformat()
        assert await ids(client, tenant, provider=name, at=soon) == {later["id"]}
        naive = await client.get(URL, params={"at": "2026-12-01T10:00:00"}, headers=tenant.headers)
        assert naive.status_code == 422


class TestOverrides:
    async def test_create_update_delete(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant, override(provider()))
        assert (made["owner"], made["unit"], made["currency"], made["valid_to"]) == (
            "tenant",
            "segment",
            "USD",
            None,
        )
        url = f"{URL}/{made['id']}"
        changed = await client.patch(url, json={"unit_price": "0.012345"}, headers=tenant.headers)
        assert changed.status_code == 200
        assert changed.json()["unit_price"] == "0.012345"
        assert (await client.delete(url, headers=tenant.headers)).status_code == 204
        assert (await client.get(url, headers=tenant.headers)).status_code == 404

    async def test_overlap_is_a_conflict_naming_the_row(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        now = utcnow()
        first = await create(
            client, tenant, override(provider(), valid_to=(now + timedelta(days=10)).isoformat())
        )
        name = first["provider"]
        clash = override(name, valid_from=(now + timedelta(days=5)).isoformat())
        response = await client.post(URL, json=clash, headers=tenant.headers)
        assert response.status_code == 409
        assert response.json()["conflicting_id"] == first["id"]
        assert first["id"] in response.json()["detail"]
        after = override(name, valid_from=(now + timedelta(days=10)).isoformat())
        second = await create(client, tenant, after)
        stretch = {"valid_to": None}
        response = await client.patch(f"{URL}/{first['id']}", json=stretch, headers=tenant.headers)
        assert response.status_code == 409
        assert response.json()["conflicting_id"] == second["id"]

    async def test_platform_rows_are_read_only(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        platform = await add_price(db, provider(), "US", 10_000)
        url = f"{URL}/{platform}"
        assert (await client.get(url, headers=tenant.headers)).json()["owner"] == "platform"
        for response in (
            await client.patch(url, json={"unit_price": "0"}, headers=tenant.headers),
            await client.delete(url, headers=tenant.headers),
        ):
            assert response.status_code == 403
            assert "read-only" in response.json()["detail"]
        assert (await client.get(url, headers=tenant.headers)).json()["unit_price"] == "0.010000"

    async def test_invalid_writes(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        name, now = provider(), utcnow().isoformat()
        bad = [
            override(name, currency="EUR"),
            override(name, kind="whatsapp"),
            {**override(name), "category": "marketing"},
            override(name, price="0.0000001"),
            override(name, price="-1"),
            override(name, country="gb"),
            {**override(name), "surprise": 1},
            override(name, valid_from=now, valid_to=now),
        ]
        for body in bad:
            response = await client.post(URL, json=body, headers=tenant.headers)
            assert response.status_code == 422, body
        whatsapp = override(name, kind="whatsapp", category="utility")
        assert (await create(client, tenant, whatsapp))["unit"] == "utility"


class TestTenants:
    async def test_other_tenants_overrides_are_invisible_and_unchanged(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        theirs = await create(client, other_tenant, override(provider()))
        url = f"{URL}/{theirs['id']}"
        assert await ids(client, tenant, provider=theirs["provider"]) == set()
        assert (await client.get(url, headers=tenant.headers)).status_code == 404
        patch = await client.patch(url, json={"unit_price": "9"}, headers=tenant.headers)
        assert patch.status_code == 404
        assert (await client.delete(url, headers=tenant.headers)).status_code == 404
        assert (await client.get(url, headers=other_tenant.headers)).json() == theirs
        same_key = await client.post(URL, json=override(theirs["provider"]), headers=tenant.headers)
        assert same_key.status_code == 201, "one tenant's periods do not block another's"

    async def test_quotes_use_only_own_overrides(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        theirs = await create(client, other_tenant, override("twilio", "US", "0.0001"))
        body = {"provider": "twilio", "kind": "sms", "country": "US"}
        mine = (await client.post(f"{URL}/quote", json=body, headers=tenant.headers)).json()
        assert (mine["unit_price"], mine["source"]) == ("0.008300", "platform")
        quoted = await client.post(f"{URL}/quote", json=body, headers=other_tenant.headers)
        assert quoted.json()["price_id"] == theirs["id"]


class TestRoles:
    async def test_manager_cannot_write(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant, override(provider()))
        url = f"{URL}/{made['id']}"
        manager = await tenant.key_for(Role.manager)
        writes = [
            client.post(URL, json=override(provider()), headers=manager),
            client.patch(url, json={"unit_price": "1"}, headers=manager),
            client.delete(url, headers=manager),
        ]
        for call in writes:
            response = await call
            assert response.status_code == 403
            assert "admin" in response.json()["detail"]
        admin = await tenant.key_for(Role.admin)
        assert (await client.post(URL, json=override(provider()), headers=admin)).status_code == 201

    async def test_viewer_reads_and_quotes(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant, override(provider()))
        viewer = await tenant.key_for(Role.viewer)
        assert (await client.get(URL, headers=viewer)).status_code == 200
        assert (await client.get(f"{URL}/{made['id']}", headers=viewer)).status_code == 200
        body = {"provider": "twilio", "kind": "sms", "country": "GB"}
        assert (await client.post(f"{URL}/quote", json=body, headers=viewer)).status_code == 200
        audience = {"provider": "twilio", "kind": "sms", "all": True}
        response = await client.post(f"{URL}/quote-audience", json=audience, headers=viewer)
        assert response.status_code == 200


class TestQuote:
    async def quote(
        self, client: httpx.AsyncClient, tenant: TenantFixture, **body: Any
    ) -> httpx.Response:
        return await client.post(f"{URL}/quote", json=body, headers=tenant.headers)

    async def test_by_phone_country_or_neither(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        toronto = await self.quote(
            client, tenant, provider="vonage", kind="sms", phone="+14165550123", segments=3
        )
        assert toronto.status_code == 200, toronto.text
        assert toronto.json() | {"price_id": None} == {
            "provider": "vonage",
            "kind": "sms",
            "unit": "segment",
            "country": "CA",
            "matched_country": "CA",
            "unit_price": "0.008100",
            "quantity": 3,
            "total": "0.024300",
            "currency": "USD",
            "source": "platform",
            "price_id": None,
        }
        japan = await self.quote(client, tenant, provider="vonage", kind="sms", country="JP")
        anywhere = await self.quote(client, tenant, provider="vonage", kind="sms")
        assert japan.json()["matched_country"] == anywhere.json()["matched_country"] == "*"
        assert anywhere.json()["country"] is None
        freephone = await self.quote(
            client, tenant, provider="vonage", kind="sms", phone="+80012345678"
        )
        assert (freephone.json()["country"], freephone.json()["matched_country"]) == (None, "*")
        meta = await self.quote(
            client,
            tenant,
            provider="whatsapp_cloud",
            kind="whatsapp",
            country="IN",
            category="utility",
        )
        assert (meta.json()["total"], meta.json()["quantity"]) == ("0.001400", 1)

    async def test_refusals(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        cases = [
            {"provider": "twilio", "kind": "sms", "phone": "+1 not a number"},
            {"provider": "twilio", "kind": "sms", "phone": "+14165550123", "country": "CA"},
            {"provider": "whatsapp_cloud", "kind": "whatsapp", "country": "US"},
            {"provider": provider(), "kind": "sms", "country": "US"},
            {"provider": "twilio", "kind": "sms", "segments": 0},
        ]
        for body in cases:
            response = await self.quote(client, tenant, **body)
            assert response.status_code == 422, body
            assert response.json()["detail"]


class TestQuoteAudience:
    async def test_eligible_contacts_of_a_segment(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        name = provider()
        await add_price(db, name, "US", 10_000)
        await add_price(db, name, "*", 50_000)
        await add_numbers(
            db, tenant.id, "+14155550101", "+14155550102", "+447700900101", tags=["vip"]
        )
        await add_numbers(db, tenant.id, "+14155550103")
        await add_numbers(
            db, tenant.id, "+14155550104", tags=["vip"], sms_status=ConsentStatus.opted_out
        )
        rules = {"all": [{"field": "tags", "op": "any", "value": ["vip"]}]}
        segment = await client.post(
            "/v1/segments", json={"name": "VIP", "rules": rules}, headers=tenant.headers
        )
        body = {"provider": name, "kind": "sms", "segment_id": segment.json()["id"], "segments": 2}
        response = await client.post(f"{URL}/quote-audience", json=body, headers=tenant.headers)
        assert response.status_code == 200, response.text
        cost = response.json()
        assert (cost["recipients"], cost["unpriced"]) == (3, 0)
        assert cost["totals"] == [{"currency": "USD", "amount": "0.140000"}]
        assert [(c["country"], c["recipients"], c["subtotal"]) for c in cost["countries"]] == [
            ("GB", 1, "0.100000"),
            ("US", 2, "0.040000"),
        ]
        everyone = {"provider": name, "kind": "sms", "all": True}
        response = await client.post(f"{URL}/quote-audience", json=everyone, headers=tenant.headers)
        assert response.json()["recipients"] == 4

    async def test_other_tenants_segment_and_bad_bodies(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        segment = await client.post(
            "/v1/segments", json={"name": "All", "preset": "all"}, headers=other_tenant.headers
        )
        body = {"provider": "twilio", "kind": "sms", "segment_id": segment.json()["id"]}
        response = await client.post(f"{URL}/quote-audience", json=body, headers=tenant.headers)
        assert response.status_code == 404
        for bad in (
            {"provider": "twilio", "kind": "sms"},
            {**body, "all": True},
            {"provider": "whatsapp_cloud", "kind": "whatsapp", "all": True},
        ):
            response = await client.post(f"{URL}/quote-audience", json=bad, headers=tenant.headers)
            assert response.status_code == 422, bad
