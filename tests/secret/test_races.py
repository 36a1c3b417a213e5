"""Concurrent PUTs of one secret: serialized by a lock, the last to commit wins, none fails."""

from __future__ import annotations

import asyncio

import httpx

from herald.kit.database import Database
from herald.secret.service import reveal
from tests.conftest import TenantFixture

WRITERS = 6


async def test_concurrent_puts_of_a_new_secret_all_succeed(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    values = [f"value-{i}" for i in range(WRITERS)]
    await client.get("/v1/secrets", headers=tenant.headers)  # see tests/imports/test_races.py
    answers = await asyncio.gather(
        *(
            client.put("/v1/secrets/shared", json={"value": v}, headers=tenant.headers)
            for v in values
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * (WRITERS - 1) + [201], [a.text for a in answers]
    last = max(answers, key=lambda a: str(a.json()["last_rotated_at"]))
    async with db.tenant_session(tenant.id) as session:
        stored = await reveal(session, tenant.id, "shared")
    assert stored in values
    listed = await client.get("/v1/secrets", headers=tenant.headers)
    assert [s["name"] for s in listed.json()["items"]] == ["shared"]
    assert listed.json()["items"][0]["last_rotated_at"] == last.json()["last_rotated_at"]
