"""``GET/PUT /v1/budget``: Viewer reads, Admin sets, each tenant its own."""

from __future__ import annotations

import httpx

from herald.kit.context import Role
from tests.conftest import TenantFixture

LIMITS = {"daily_limit": 5_000_000, "monthly_limit": 100_000_000}


class TestReadBudget:
    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/v1/budget")).status_code == 401

    async def test_viewer_reads_no_limits_by_default(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        headers = await tenant.key_for(Role.viewer)
        response = await client.get("/v1/budget", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert body["daily_limit"] is None and body["monthly_limit"] is None
        assert body["status"] == "ok" and body["daily_spent"] == 0
        assert body["currency"] == "USD" and body["timezone"] == "UTC"
        assert body["daily_resets_at"].endswith("T00:00:00Z")
        assert body["monthly_resets_at"][8:] == "01T00:00:00Z"

    async def test_other_tenant_sees_its_own(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        await client.put("/v1/budget", json=LIMITS, headers=tenant.headers)
        theirs = (await client.get("/v1/budget", headers=other_tenant.headers)).json()
        assert theirs["daily_limit"] is None
        assert theirs["timezone"] == "Europe/London"


class TestSetBudget:
    async def test_admin_sets_both_limits(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        headers = await tenant.key_for(Role.admin)
        response = await client.put("/v1/budget", json=LIMITS, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["daily_limit"] == 5_000_000
        again = (await client.get("/v1/budget", headers=tenant.headers)).json()
        assert again["monthly_limit"] == 100_000_000

    async def test_null_removes_a_limit(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        await client.put("/v1/budget", json=LIMITS, headers=tenant.headers)
        body = {"daily_limit": None, "monthly_limit": 1}
        response = await client.put("/v1/budget", json=body, headers=tenant.headers)
        assert response.json()["daily_limit"] is None and response.json()["monthly_limit"] == 1

    async def test_manager_cannot_set(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        headers = await tenant.key_for(Role.manager)
        response = await client.put("/v1/budget", json=LIMITS, headers=headers)
        assert response.status_code == 403
        assert "admin" in response.json()["detail"]

    async def test_negative_and_unknown_fields_are_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        negative = {"daily_limit": -1, "monthly_limit": None}
        response = await client.put("/v1/budget", json=negative, headers=tenant.headers)
        assert response.status_code == 422 and "daily_limit" in response.json()["detail"]
        unknown = {**LIMITS, "weekly_limit": 3}
        response = await client.put("/v1/budget", json=unknown, headers=tenant.headers)
        assert response.status_code == 422 and "weekly_limit" in response.json()["detail"]

    async def test_the_change_is_audited(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        await client.put("/v1/budget", json=LIMITS, headers=tenant.headers)
        log = (await client.get("/v1/audit-log", headers=tenant.headers)).json()["items"]
        assert any(entry["action"] == "budget.created" for entry in log)
