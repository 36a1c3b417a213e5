"""Shared helpers of the import tests: upload a file, read what landed in the database."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import select

from herald.contact.models import ConsentEvent, Contact
from herald.kit.database import Database
from tests.conftest import TenantFixture


async def upload(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    body: bytes,
    *,
    name: str = "contacts.csv",
    headers: dict[str, str] | None = None,
    **form: str,
) -> httpx.Response:
    return await client.post(
        "/v1/imports",
        files={"file": (name, body, "text/csv")},
        data=form,
        headers=headers or tenant.headers,
    )


def csv_bytes(*lines: str, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


async def contacts_by_phone(db: Database, tenant_id: UUID) -> dict[str, Contact]:
    async with db.tenant_session(tenant_id) as session:
        rows = await session.scalars(select(Contact).where(Contact.tenant_id == tenant_id))
        return {c.phone_e164 or "": c for c in rows}


async def consent_events(db: Database, tenant_id: UUID, contact_id: UUID) -> list[ConsentEvent]:
    async with db.tenant_session(tenant_id) as session:
        rows = await session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.contact_id == contact_id)
            .order_by(ConsentEvent.occurred_at)
        )
        return list(rows)


async def add_contact(db: Database, tenant_id: UUID, **fields: Any) -> Contact:
    async with db.tenant_session(tenant_id) as session:
        contact = Contact(tenant_id=tenant_id, **fields)
        session.add(contact)
        await session.flush()
        return contact


async def rejected_rows(
    client: httpx.AsyncClient, tenant: TenantFixture, batch_id: str
) -> list[dict[str, str]]:
    response = await client.get(f"/v1/imports/{batch_id}/rejected.csv", headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))
