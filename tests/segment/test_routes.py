"""The /v1/segments API: CRUD, presets, previews, refresh, members, tenants and roles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import delete, func, select

from herald.contact.models import ConsentStatus, Contact, Gender
from herald.kit.context import Role
from herald.kit.database import Database
from herald.segment.models import SegmentMembership
from tests.conftest import TenantFixture
from tests.segment.helpers import add_contacts, cond, every

VIP = every(cond("tags", "any", ["vip"]))


async def create(client: httpx.AsyncClient, tenant: TenantFixture, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/segments", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def members(client: httpx.AsyncClient, tenant: TenantFixture, segment_id: str) -> set[str]:
    response = await client.get(f"/v1/segments/{segment_id}/contacts", headers=tenant.headers)
    assert response.status_code == 200
    return {c["first_name"] for c in response.json()["items"]}


class TestCrud:
    async def test_create_read_update_delete(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant, name="VIPs", rules=VIP, description="Big spenders")
        assert made["rules"] == VIP
        assert made["member_count"] is None
        url = f"/v1/segments/{made['id']}"
        assert (await client.get(url, headers=tenant.headers)).json()["name"] == "VIPs"
        changed = await client.patch(
            url, json={"name": "Top", "description": None}, headers=tenant.headers
        )
        assert changed.status_code == 200
        assert (changed.json()["name"], changed.json()["description"]) == ("Top", None)
        assert (await client.delete(url, headers=tenant.headers)).status_code == 204
        assert (await client.get(url, headers=tenant.headers)).status_code == 404

    async def test_invalid_rules_on_write(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        bad = every(cond("shoe_size", "eq", 42))
        response = await client.post(
            "/v1/segments", json={"name": "Bad", "rules": bad}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "rules.all[0].field"
        made = await create(client, tenant, name="Good", rules=VIP)
        response = await client.patch(
            f"/v1/segments/{made['id']}", json={"rules": bad}, headers=tenant.headers
        )
        assert response.status_code == 422

    @pytest.mark.parametrize(
        "body",
        [{"name": "Both", "rules": VIP, "preset": "all"}, {"name": "Neither"}, {"rules": VIP}],
    )
    async def test_rules_or_preset(
        self, client: httpx.AsyncClient, tenant: TenantFixture, body: dict[str, Any]
    ) -> None:
        response = await client.post("/v1/segments", json=body, headers=tenant.headers)
        assert response.status_code == 422

    async def test_duplicate_name(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        first = await create(client, tenant, name="VIPs", rules=VIP)
        response = await client.post(
            "/v1/segments", json={"name": "VIPs", "rules": VIP}, headers=tenant.headers
        )
        assert response.status_code == 409
        assert first["id"] in response.json()["detail"]
        other = await create(client, tenant, name="Others", rules=VIP)
        renamed = await client.patch(
            f"/v1/segments/{other['id']}", json={"name": "VIPs"}, headers=tenant.headers
        )
        assert renamed.status_code == 409

    async def test_same_name_in_another_tenant(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        await create(client, tenant, name="VIPs", rules=VIP)
        await create(client, other_tenant, name="VIPs", rules=VIP)

    async def test_list_pages_by_name(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        for name in ("c", "a", "b"):
            await create(client, tenant, name=name, rules=VIP)
        await create(client, other_tenant, name="other", rules=VIP)
        first = await client.get("/v1/segments?limit=2", headers=tenant.headers)
        assert [s["name"] for s in first.json()["items"]] == ["a", "b"]
        cursor = first.json()["next_cursor"]
        second = await client.get(f"/v1/segments?limit=2&cursor={cursor}", headers=tenant.headers)
        assert [s["name"] for s in second.json()["items"]] == ["c"]
        assert second.json()["next_cursor"] is None


class TestPresets:
    @pytest.fixture
    async def people(self, db: Database, tenant: TenantFixture) -> None:
        await add_contacts(
            db,
            tenant.id,
            {"first_name": "Ana", "gender": Gender.female, "tags": ["vip"]},
            {"first_name": "Bob", "gender": Gender.male},
            {"first_name": "Cid"},
        )

    @pytest.mark.parametrize(
        ("preset", "name", "expected"),
        [
            ("all", "All contacts", {"Ana", "Bob", "Cid"}),
            ("female", "Women", {"Ana"}),
            ("male", "Men", {"Bob"}),
            ("tag:vip", "Tag: vip", {"Ana"}),
        ],
    )
    async def test_preset(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        people: None,
        preset: str,
        name: str,
        expected: set[str],
    ) -> None:
        made = await create(client, tenant, preset=preset)
        assert (made["name"], made["preset"]) == (name, preset)
        preview = await client.get(f"/v1/segments/{made['id']}/preview", headers=tenant.headers)
        assert {c["first_name"] for c in preview.json()["sample"]} == expected

    async def test_named_preset_and_unknown_one(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant, preset="tag:vip", name="Our VIPs")
        assert made["name"] == "Our VIPs"
        for preset in ("everyone", "tag:", "tag:  "):
            response = await client.post(
                "/v1/segments", json={"preset": preset}, headers=tenant.headers
            )
            assert response.status_code == 422
            assert "tag:<name>" in response.json()["detail"]

    async def test_changed_rules_drop_the_preset_and_memberships(
        self, client: httpx.AsyncClient, tenant: TenantFixture, people: None
    ) -> None:
        made = await create(client, tenant, preset="female")
        url = f"/v1/segments/{made['id']}"
        await client.post(f"{url}/refresh", headers=tenant.headers)
        assert await members(client, tenant, made["id"]) == {"Ana"}
        same = await client.patch(url, json={"rules": made["rules"]}, headers=tenant.headers)
        assert (same.json()["preset"], same.json()["member_count"]) == ("female", 1)
        changed = await client.patch(url, json={"rules": VIP}, headers=tenant.headers)
        assert (changed.json()["preset"], changed.json()["rules"]) == (None, VIP)
        assert (changed.json()["member_count"], changed.json()["refreshed_at"]) == (None, None)
        assert await members(client, tenant, made["id"]) == set()


class TestPreview:
    async def test_count_and_sample(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        await add_contacts(
            db, tenant.id, *({"first_name": f"V{n}", "tags": ["vip"]} for n in range(5))
        )
        await add_contacts(db, tenant.id, {"first_name": "Plain"})
        made = await create(client, tenant, name="VIPs", rules=VIP)
        response = await client.get(
            f"/v1/segments/{made['id']}/preview?sample=2", headers=tenant.headers
        )
        assert response.json()["count"] == 5
        assert len(response.json()["sample"]) == 2
        assert response.json()["eligible_count"] is None
        bad = await client.get(
            f"/v1/segments/{made['id']}/preview?sample=1000", headers=tenant.headers
        )
        assert bad.status_code == 422

    async def test_unsaved_rules(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        await add_contacts(
            db, tenant.id, {"first_name": "Ana", "tags": ["vip"]}, {"first_name": "B"}
        )
        response = await client.post(
            "/v1/segments/preview", json={"rules": VIP, "sample": 0}, headers=tenant.headers
        )
        assert response.json() == {"count": 1, "sample": [], "eligible_count": None}

    async def test_eligible_count(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        await add_contacts(
            db,
            tenant.id,
            {"first_name": "In", "tags": ["vip"], "sms_status": ConsentStatus.opted_in},
            {"first_name": "Out", "tags": ["vip"], "sms_status": ConsentStatus.opted_out},
            {"first_name": "Blocked", "tags": ["vip"], "blocked": True},
        )
        response = await client.post(
            "/v1/segments/preview", json={"rules": VIP, "channel": "sms"}, headers=tenant.headers
        )
        assert (response.json()["count"], response.json()["eligible_count"]) == (3, 1)

    async def test_never_counts_another_tenant(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        db: Database,
    ) -> None:
        same: list[dict[str, Any]] = [
            {"first_name": "Twin", "tags": ["vip"]},
            {"first_name": "Solo", "tags": []},
        ]
        everyone: dict[str, Any] = {"all": []}
        await add_contacts(db, tenant.id, *same)
        await add_contacts(db, other_tenant.id, *same, {"first_name": "Extra", "tags": ["vip"]})
        for rules in (VIP, everyone):
            mine = await client.post(
                "/v1/segments/preview", json={"rules": rules}, headers=tenant.headers
            )
            theirs = await client.post(
                "/v1/segments/preview", json={"rules": rules}, headers=other_tenant.headers
            )
            assert mine.json()["count"] == theirs.json()["count"] - 1

    async def test_erased_contacts_never_match(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        await add_contacts(
            db,
            tenant.id,
            {"first_name": "Gone", "erased_at": datetime.now(UTC)},
            {"first_name": "Here"},
        )
        response = await client.post(
            "/v1/segments/preview", json={"rules": {"all": []}}, headers=tenant.headers
        )
        assert [c["first_name"] for c in response.json()["sample"]] == ["Here"]


class TestRefresh:
    async def test_materializes_and_removes_non_matching(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        ana, bob, _cid = await add_contacts(
            db,
            tenant.id,
            {"first_name": "Ana", "tags": ["vip"]},
            {"first_name": "Bob", "tags": ["vip"]},
            {"first_name": "Cid"},
        )
        made = await create(client, tenant, name="VIPs", rules=VIP)
        url = f"/v1/segments/{made['id']}"
        assert await members(client, tenant, made["id"]) == set()
        refreshed = await client.post(f"{url}/refresh", headers=tenant.headers)
        assert refreshed.json()["member_count"] == 2
        assert refreshed.json()["refreshed_at"] is not None
        assert await members(client, tenant, made["id"]) == {"Ana", "Bob"}

        async with db.tenant_session(tenant.id) as session:
            contact = await session.get_one(Contact, bob)
            contact.tags = []
            (await session.get_one(Contact, _cid)).tags = ["vip"]
        again = await client.post(f"{url}/refresh", headers=tenant.headers)
        assert again.json()["member_count"] == 2
        assert await members(client, tenant, made["id"]) == {"Ana", "Cid"}

        async with db.tenant_session(tenant.id) as session:
            await session.execute(delete(Contact).where(Contact.id == ana))
        assert await members(client, tenant, made["id"]) == {"Cid"}

    async def test_members_page(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        await add_contacts(
            db, tenant.id, *({"first_name": f"V{n}", "tags": ["vip"]} for n in range(5))
        )
        made = await create(client, tenant, name="VIPs", rules=VIP)
        await client.post(f"/v1/segments/{made['id']}/refresh", headers=tenant.headers)
        seen: list[str] = []
        cursor = ""
        for _ in range(3):
            page = await client.get(
                f"/v1/segments/{made['id']}/contacts?limit=2{cursor}", headers=tenant.headers
            )
            seen += [c["first_name"] for c in page.json()["items"]]
            cursor = f"&cursor={page.json()['next_cursor']}"
        assert sorted(seen) == [f"V{n}" for n in range(5)]
        assert page.json()["next_cursor"] is None

    async def test_deleting_the_segment_deletes_memberships(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        await add_contacts(db, tenant.id, {"first_name": "Ana", "tags": ["vip"]})
        made = await create(client, tenant, name="VIPs", rules=VIP)
        await client.post(f"/v1/segments/{made['id']}/refresh", headers=tenant.headers)
        await client.delete(f"/v1/segments/{made['id']}", headers=tenant.headers)
        async with db.tenant_session(tenant.id) as session:
            left = await session.scalar(
                select(func.count())
                .select_from(SegmentMembership)
                .where(SegmentMembership.segment_id == UUID(made["id"]))
            )
        assert left == 0


class TestOtherTenant:
    async def test_every_route_answers_404(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant, name="VIPs", rules=VIP)
        url = f"/v1/segments/{made['id']}"
        headers = other_tenant.headers
        calls = [
            client.get(url, headers=headers),
            client.patch(url, json={"name": "Mine"}, headers=headers),
            client.get(f"{url}/preview", headers=headers),
            client.post(f"{url}/refresh", headers=headers),
            client.get(f"{url}/contacts", headers=headers),
            client.delete(url, headers=headers),
        ]
        for call in calls:
            assert (await call).status_code == 404
        unchanged = await client.get(url, headers=tenant.headers)
        assert unchanged.json()["name"] == "VIPs"
        assert unchanged.json()["refreshed_at"] is None
        listed = await client.get("/v1/segments", headers=headers)
        assert listed.json()["items"] == []


class TestRoles:
    async def test_viewer_reads_and_previews_but_cannot_write(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant, name="VIPs", rules=VIP)
        url = f"/v1/segments/{made['id']}"
        viewer = await tenant.key_for(Role.viewer)
        assert (await client.get(url, headers=viewer)).status_code == 200
        assert (await client.get(f"{url}/preview", headers=viewer)).status_code == 200
        assert (await client.get(f"{url}/contacts", headers=viewer)).status_code == 200
        unsaved = await client.post("/v1/segments/preview", json={"rules": VIP}, headers=viewer)
        assert unsaved.status_code == 200
        writes = [
            client.post("/v1/segments", json={"name": "X", "rules": VIP}, headers=viewer),
            client.patch(url, json={"name": "X"}, headers=viewer),
            client.post(f"{url}/refresh", headers=viewer),
            client.delete(url, headers=viewer),
        ]
        for call in writes:
            response = await call
            assert response.status_code == 403
            assert "manager" in response.json()["detail"]

    async def test_manager_writes(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        manager = await tenant.key_for(Role.manager)
        response = await client.post(
            "/v1/segments", json={"name": "X", "rules": VIP}, headers=manager
        )
        assert response.status_code == 201
