"""Erasing a person reaches their copies in imports: rejected and skipped rows are redacted,
and the stored file of a batch that no longer reads it (failed) is dropped. Both import paths:
inline, and stored for a worker."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from herald.imports import service as imports
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.imports.helpers import csv_bytes, upload

PHONE = "+14155550142"
EMAIL = "Erin.Erasable@example.com"
TRACES = ("5550142", "erin.erasable", "Erasable")
"""What of the person may not be left anywhere (the number without separators, any case)."""
HEADER = "phone,email,first_name,last_name"
PERSON_ROWS = (
    f"+1 (415) 555-0142,{EMAIL},Erin,Erasable",
    "415.555.0142,,Erin,Erasable",  # the same number again: skipped
    f"+14155550143,{EMAIL.upper()},Other,Erasable",  # the email is taken: rejected
)
OTHERS = ("+14155550144,,Keep,Mine", "12,,Bad,Number")


async def batch_id_of(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    batch_id: str = response.json()["id"]
    return batch_id


async def rejected_csv(client: httpx.AsyncClient, tenant: TenantFixture, batch_id: str) -> str:
    response = await client.get(f"/v1/imports/{batch_id}/rejected.csv", headers=tenant.headers)
    assert response.status_code == 200
    return response.text


async def stored_text(db: Database, tenant: TenantFixture) -> dict[str, str]:
    """Every table where imports or contacts keep text, as one string per table."""
    queries = {
        "import_issues": "SELECT string_agg(raw || reason, '|') FROM import_issues",
        "import_file_parts": (
            "SELECT string_agg(convert_from(data, 'UTF8'), '|') FROM import_file_parts"
        ),
        "contacts": "SELECT string_agg(row_to_json(c)::text, '|') FROM contacts c",
        "consent_events": "SELECT string_agg(row_to_json(e)::text, '|') FROM consent_events e",
        "audit_log": "SELECT string_agg(changes::text, '|') FROM audit_log",
    }
    found: dict[str, str] = {}
    async with db.tenant_session(tenant.id) as session:
        for table, sql in queries.items():
            found[table] = await session.scalar(text(sql)) or ""
    return found


def traces_in(value: str) -> list[str]:
    digits = "".join(ch for ch in value if ch.isdigit())
    found = [t for t in TRACES if t.lower() in value.lower()]
    return found + (["digits"] if "4155550142" in digits else [])


async def erase(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    found = await client.get("/v1/contacts", params={"q": "+14155550142"}, headers=tenant.headers)
    items: list[dict[str, Any]] = found.json()["items"]
    [person] = [c for c in items if c["phone_e164"] == PHONE]
    response = await client.delete(
        f"/v1/contacts/{person['id']}", params={"erase": "true"}, headers=tenant.headers
    )
    assert response.status_code == 204


async def test_erasure_reaches_import_rows_and_files(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inline = await batch_id_of(
        await upload(client, tenant, csv_bytes(HEADER, *PERSON_ROWS, *OTHERS))
    )
    monkeypatch.setattr(imports, "INLINE_MAX_BYTES", 0)
    stored = await batch_id_of(
        await upload(client, tenant, csv_bytes(HEADER, *PERSON_ROWS, *OTHERS, "+14155550145,,A,B"))
    )
    assert await imports.run_batch(db, stored) is not None
    failed = await batch_id_of(
        await upload(client, tenant, csv_bytes(HEADER, PERSON_ROWS[0], "+14155550146,,C,D"))
    )
    async with db.system_session() as session:  # its worker gave up: the file stays stored
        await session.execute(
            text("UPDATE import_batches SET status = 'failed', error = 'Stopped.' WHERE id = :b"),
            {"b": failed},
        )
    before = await rejected_csv(client, tenant, inline)
    assert "Erasable" in before and "Bad" in before
    assert traces_in((await stored_text(db, tenant))["import_file_parts"])

    await erase(client, tenant)

    for batch_id in (inline, stored):
        after = await rejected_csv(client, tenant, batch_id)
        assert traces_in(after) == [], after
        assert "Bad" in after, "a row of someone else stays as it was"
        assert after.count(imports.ERASED) == 4, "line, kind and counts are kept"
    for table, value in (await stored_text(db, tenant)).items():
        assert traces_in(value) == [], table
    read = await client.get(f"/v1/imports/{failed}", headers=tenant.headers)
    assert "import the file again" in read.json()["error"]


async def test_erasure_leaves_other_tenants_rows(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
) -> None:
    theirs = await batch_id_of(await upload(client, other_tenant, csv_bytes(HEADER, *PERSON_ROWS)))
    await batch_id_of(await upload(client, tenant, csv_bytes(HEADER, *PERSON_ROWS)))
    await erase(client, tenant)
    assert "Erasable" in await rejected_csv(client, other_tenant, theirs)
