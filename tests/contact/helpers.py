"""Shared helpers of the contact tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import TenantFixture

_counter = iter(range(1_000_000))


def us_number() -> str:
    """A fresh valid US mobile-format number (+1 415 555 01xx style, unique per call)."""
    n = next(_counter)
    return f"+1415{2000000 + n:07d}"


async def create_contact(
    client: httpx.AsyncClient, tenant: TenantFixture, **fields: Any
) -> dict[str, Any]:
    body = {"phone": us_number(), **fields}
    response = await client.post("/v1/contacts", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data
