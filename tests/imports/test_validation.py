"""Upload mistakes the import used to accept without a word: each answers 422 or is reported
on its row."""

from __future__ import annotations

import httpx
import orjson
import pytest

from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.imports.helpers import contacts_by_phone, csv_bytes, upload

FILE = csv_bytes("phone,mobile,Colour", "+14155550171,+14155550172,blue")


async def test_unknown_default_country(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await upload(client, tenant, FILE, default_country="XX")
    assert response.status_code == 422
    assert "default_country" in response.text


async def test_two_file_parts(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.post(
        "/v1/imports",
        files=[("file", ("a.csv", FILE, "text/csv")), ("file", ("b.csv", FILE, "text/csv"))],
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert "one file per import" in response.json()["detail"]


async def test_two_columns_mapped_to_phone(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    mapping = orjson.dumps({"phone": "phone", "mobile": "phone"}).decode()
    response = await upload(client, tenant, FILE, mapping=mapping)
    assert response.status_code == 422
    assert "'phone' and 'mobile'" in response.json()["detail"]


@pytest.mark.parametrize("target", ["custom:", "custom:favourite colour", "custom:1st"])
async def test_custom_name_the_api_would_refuse(
    client: httpx.AsyncClient, tenant: TenantFixture, target: str
) -> None:
    mapping = orjson.dumps({"mobile": "ignore", "Colour": target}).decode()
    response = await upload(client, tenant, FILE, mapping=mapping)
    assert response.status_code == 422
    assert "custom field's name" in response.json()["detail"]


async def test_custom_name_the_api_accepts(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    mapping = orjson.dumps({"mobile": "ignore", "Colour": "custom:colour"}).decode()
    response = await upload(client, tenant, FILE, mapping=mapping)
    assert response.status_code == 202, response.text
    stored = await contacts_by_phone(db, tenant.id)
    assert stored["+14155550171"].custom_fields == {"colour": "blue"}


async def test_extension_is_reported_on_its_row(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    body = csv_bytes("phone", "+1 415 555 0173 ext. 9", "+14155550174")
    response = await upload(client, tenant, body)
    assert response.status_code == 202
    assert response.json()["counts"]["created"] == 1
    assert response.json()["counts"]["rejected"] == 1
    rejected = await client.get(
        f"/v1/imports/{response.json()['id']}/rejected.csv", headers=tenant.headers
    )
    assert "extension" in rejected.text


async def test_birth_date_out_of_range_is_reported(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    body = csv_bytes("phone,birth_date", "+14155550175,9999-12-31")
    response = await upload(client, tenant, body)
    assert response.status_code == 202
    assert response.json()["counts"]["rejected"] == 1
