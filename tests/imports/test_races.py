"""Concurrent uploads of one file: the "already imported?" check and the new batch are one
atomic step (a transaction-scoped advisory lock on tenant + file digest)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from herald.imports import service
from herald.imports.models import ImportBatch
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.imports.helpers import csv_bytes, upload

UPLOADS = 6
"""The first request of a key writes its ``last_used_at`` and holds that row until it commits,
which would serialize the uploads by itself: each test makes one request before racing."""


async def batches_of(db: Database, tenant: TenantFixture) -> int:
    async with db.tenant_session(tenant.id) as session:
        count = await session.scalar(select(func.count()).where(ImportBatch.tenant_id == tenant.id))
    return int(count or 0)


@pytest.mark.parametrize("size", ["inline", "stored"])
async def test_concurrent_uploads_make_one_batch(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    monkeypatch: pytest.MonkeyPatch,
    size: str,
) -> None:
    if size == "stored":  # every file goes to a worker: the batch stays pending
        monkeypatch.setattr(service, "INLINE_MAX_BYTES", 0)
    body = csv_bytes("phone,first_name", "+14155550101,Ann", "+14155550102,Bob")
    await client.get("/v1/imports", headers=tenant.headers)  # the key's last use is written
    answers = await asyncio.gather(*(upload(client, tenant, body) for _ in range(UPLOADS)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [202] + [409] * (UPLOADS - 1), [a.text for a in answers]
    made = next(a.json()["id"] for a in answers if a.status_code == 202)
    assert {a.json()["earlier_batch_id"] for a in answers if a.status_code == 409} == {made}
    assert await batches_of(db, tenant) == 1
