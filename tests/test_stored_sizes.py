"""Every stored text and JSON value has a bound, and going past it is a 422 naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from herald.contact.fields import CUSTOM_FIELDS_MAX_BYTES, CUSTOM_VALUE_MAX_LENGTH
from herald.segment.schemas import MAX_RULES_BYTES
from tests.conftest import TenantFixture
from tests.contact.helpers import create_contact, us_number
from tests.imports.helpers import rejected_rows, upload


def refused(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    detail: str = response.json()["detail"]
    assert field in detail
    return detail


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ({"note": "x" * (CUSTOM_VALUE_MAX_LENGTH + 1)}, "'note' is longer than"),
        ({"notes": ["ok", "x" * (CUSTOM_VALUE_MAX_LENGTH + 1)]}, "'notes' is longer than"),
        (
            {f"f{i}": "x" * 900 for i in range(CUSTOM_FIELDS_MAX_BYTES // 900 + 1)},
            "bytes as JSON",
        ),
    ],
)
async def test_custom_fields_are_bounded(
    client: httpx.AsyncClient, tenant: TenantFixture, custom: dict[str, Any], message: str
) -> None:
    created = await client.post(
        "/v1/contacts", json={"phone": us_number(), "custom_fields": custom}, headers=tenant.headers
    )
    assert message in refused(created, "custom_fields")
    contact = await create_contact(client, tenant)
    changed = await client.patch(
        f"/v1/contacts/{contact['id']}", json={"custom_fields": custom}, headers=tenant.headers
    )
    assert message in refused(changed, "custom_fields")


async def test_custom_fields_within_the_bounds_are_kept(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    custom = {"note": "x" * CUSTOM_VALUE_MAX_LENGTH}
    contact = await create_contact(client, tenant, custom_fields=custom)
    assert contact["custom_fields"] == custom


async def test_an_imported_row_gets_the_same_bound(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    long = "x" * (CUSTOM_VALUE_MAX_LENGTH + 1)
    body = f"phone,note\n+12125550101,short\n+12125550102,{long}\n".encode()
    response = await upload(client, tenant, body, mapping='{"note": "custom:note"}')
    assert response.status_code == 202, response.text
    assert response.json()["counts"]["created"] == 1
    [row] = await rejected_rows(client, tenant, response.json()["id"])
    assert (
        row["reason"] == f"custom field 'note' is longer than {CUSTOM_VALUE_MAX_LENGTH} characters"
    )


async def test_segment_rules_are_bounded(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    values = ["x" * 60 for _ in range(MAX_RULES_BYTES // 60)]
    rules = {"all": [{"field": "first_name", "op": "in", "value": values}]}
    response = await client.post(
        "/v1/segments", json={"name": "huge", "rules": rules}, headers=tenant.headers
    )
    assert "bytes as JSON" in refused(response, "rules")


@pytest.mark.parametrize(
    "footer",
    [{"en": "x" * 321}, {"x" * 17: "Reply STOP"}, {f"l{i}": "STOP" for i in range(51)}],
)
async def test_opt_out_footers_are_bounded(
    client: httpx.AsyncClient, tenant: TenantFixture, footer: dict[str, str]
) -> None:
    response = await client.patch(
        "/v1/tenant", json={"settings": {"opt_out_footer": footer}}, headers=tenant.headers
    )
    refused(response, "opt_out_footer")


async def test_bulk_phone_entries_are_bounded(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    response = await client.post(
        "/v1/dnc/bulk", json={"phones": ["+1" * 30]}, headers=tenant.headers
    )
    refused(response, "phones.0")
