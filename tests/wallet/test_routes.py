"""The /v1/wallet API: balance, ledger, billing mode, adjustments; tenants and roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from herald.kit.context import Role
from herald.kit.database import Database
from herald.wallet import service
from herald.wallet.models import BillingMode
from tests.conftest import TenantFixture
from tests.wallet.helpers import UNIT, fund


async def test_read_shows_micro_units_and_a_display(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    await fund(db, tenant.id, 12_500_000, BillingMode.prepaid)

    response = await client.get("/v1/wallet", headers=tenant.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["balance"], body["balance_display"], body["currency"]) == (
        12_500_000,
        "12.50",
        "USD",
    )
    assert (body["billing_mode"], body["lifetime_purchased_display"]) == ("prepaid", "12.50")


async def test_a_tenant_without_a_wallet_reads_an_empty_one(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    body = (await client.get("/v1/wallet", headers=tenant.headers)).json()

    assert (body["balance"], body["balance_display"], body["billing_mode"]) == (
        0,
        "0.00",
        "postpaid",
    )


async def test_other_tenants_wallet_and_ledger_are_invisible(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
) -> None:
    await fund(db, tenant.id, 5 * UNIT, BillingMode.postpaid)
    mine = (await client.get("/v1/wallet/transactions", headers=tenant.headers)).json()
    reference = mine["items"][0]["id"]

    theirs = await client.get("/v1/wallet", headers=other_tenant.headers)
    ledger = await client.get("/v1/wallet/transactions", headers=other_tenant.headers)

    assert theirs.json()["balance"] == 0
    assert ledger.json()["items"] == []
    assert reference not in ledger.text


async def test_ledger_filters_and_pages_newest_first(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    message = uuid4()
    await fund(db, tenant.id, UNIT, BillingMode.prepaid)
    async with db.tenant_session(tenant.id) as session:
        for n in range(3):
            await service.reserve(
                session,
                tenant.id,
                10_000,
                reference_type="message",
                reference_id=message if n == 0 else uuid4(),
                idempotency_key=f"m{n}",
            )

    first = await client.get("/v1/wallet/transactions?limit=2", headers=tenant.headers)
    rest = await client.get(
        f"/v1/wallet/transactions?limit=2&cursor={first.json()['next_cursor']}",
        headers=tenant.headers,
    )
    debits = await client.get("/v1/wallet/transactions?kind=debit", headers=tenant.headers)
    by_ref = await client.get(
        f"/v1/wallet/transactions?reference_type=message&reference_id={message}",
        headers=tenant.headers,
    )
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    later = await client.get(
        "/v1/wallet/transactions", params={"since": future}, headers=tenant.headers
    )

    kinds = [e["kind"] for e in first.json()["items"] + rest.json()["items"]]
    assert kinds == ["debit", "debit", "debit", "purchase"]
    assert len(debits.json()["items"]) == 3
    assert [e["amount_display"] for e in by_ref.json()["items"]] == ["-0.01"]
    assert later.json()["items"] == []


async def test_owner_switches_the_billing_mode(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    response = await client.patch(
        "/v1/wallet", json={"billing_mode": "prepaid"}, headers=tenant.headers
    )
    refused = await client.patch(
        "/v1/wallet", json={"billing_mode": "free"}, headers=tenant.headers
    )
    unknown = await client.patch(
        "/v1/wallet", json={"billing_mode": "prepaid", "limit": 3}, headers=tenant.headers
    )

    assert response.status_code == 200
    assert response.json()["billing_mode"] == "prepaid"
    assert (refused.status_code, unknown.status_code) == (422, 422)


async def test_owner_adjusts_with_a_reason_once_per_key(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    body = {"amount": 2_500_000, "reason": "goodwill", "idempotency_key": "adj-1"}

    made = await client.post("/v1/wallet/adjustments", json=body, headers=tenant.headers)
    again = await client.post("/v1/wallet/adjustments", json=body, headers=tenant.headers)
    no_reason = await client.post(
        "/v1/wallet/adjustments", json={"amount": 1, "reason": " "}, headers=tenant.headers
    )

    assert made.status_code == 201, made.text
    assert made.json()["amount_display"] == "2.50"
    assert made.json()["actor"].startswith("api_key:")
    assert again.json()["id"] == made.json()["id"]
    assert no_reason.status_code == 422
    wallet = (await client.get("/v1/wallet", headers=tenant.headers)).json()
    assert (wallet["balance"], wallet["lifetime_adjusted"]) == (2_500_000, 2_500_000)


async def test_a_prepaid_owner_cannot_mint_credits(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    await fund(db, tenant.id, UNIT, BillingMode.prepaid)

    minted = await client.post(
        "/v1/wallet/adjustments", json={"amount": UNIT, "reason": "x"}, headers=tenant.headers
    )
    overdrawn = await client.post(
        "/v1/wallet/adjustments", json={"amount": -2 * UNIT, "reason": "x"}, headers=tenant.headers
    )

    assert minted.status_code == 403
    assert "herald wallet credit" in minted.json()["detail"]
    assert overdrawn.status_code == 422


@pytest.mark.parametrize(
    ("method", "url", "body", "below"),
    [
        ("GET", "/v1/wallet", None, Role.manager),
        ("GET", "/v1/wallet/transactions", None, Role.manager),
        ("PATCH", "/v1/wallet", {"billing_mode": "prepaid"}, Role.admin),
        ("POST", "/v1/wallet/adjustments", {"amount": 1, "reason": "x"}, Role.admin),
    ],
)
async def test_the_role_below_the_minimum_is_refused(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    method: str,
    url: str,
    body: dict[str, object] | None,
    below: Role,
) -> None:
    headers = await tenant.key_for(below)

    response = await client.request(method, url, json=body, headers=headers)

    assert response.status_code == 403
