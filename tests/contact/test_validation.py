"""Values the contact API used to accept without a word: each answers 422 saying what to fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import TenantFixture
from tests.contact.helpers import create_contact, us_number


@pytest.mark.parametrize("birth_date", ["9999-12-31", "1899-12-31"])
async def test_birth_date_out_of_range(
    client: httpx.AsyncClient, tenant: TenantFixture, birth_date: str
) -> None:
    body = {"phone": us_number(), "birth_date": birth_date}
    response = await client.post("/v1/contacts", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert "birth_date" in response.text
    made = await create_contact(client, tenant)
    changed = await client.patch(
        f"/v1/contacts/{made['id']}", json={"birth_date": birth_date}, headers=tenant.headers
    )
    assert changed.status_code == 422


async def test_unknown_country(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    body = {"phone": "4155550123", "country": "XX"}
    response = await client.post("/v1/contacts", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert "ISO 3166" in response.text
    good = await client.post("/v1/contacts", json={**body, "country": "us"}, headers=tenant.headers)
    assert good.status_code == 201, good.text


@pytest.mark.parametrize("phone", ["+1 415 555 0123 ext. 12", "+14155550123 x12"])
async def test_phone_extension_is_refused(
    client: httpx.AsyncClient, tenant: TenantFixture, phone: str
) -> None:
    response = await client.post("/v1/contacts", json={"phone": phone}, headers=tenant.headers)
    assert response.status_code == 422
    assert "extension" in response.json()["detail"]


class TestSuppressionRuleExpiry:
    async def test_past_expiry_on_create(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        response = await client.post(
            "/v1/suppression-rules", json={"name": "x", "expires_at": past}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "future" in response.text

    async def test_past_expiry_on_update(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        made = await client.post(
            "/v1/suppression-rules",
            json={"name": "x", "expires_at": future},
            headers=tenant.headers,
        )
        assert made.status_code == 201, made.text
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        url = f"/v1/suppression-rules/{made.json()['id']}"
        response = await client.patch(url, json={"expires_at": past}, headers=tenant.headers)
        assert response.status_code == 422
        cleared = await client.patch(url, json={"expires_at": None}, headers=tenant.headers)
        assert cleared.status_code == 200
