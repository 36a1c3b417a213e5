"""Contacts inserted straight through SQLAlchemy, and a way to ask who some rules match."""

from __future__ import annotations

from itertools import count
from typing import Any
from uuid import UUID

from herald.contact.models import Contact
from herald.kit.database import Database
from herald.segment import service

_numbers = count()


def phone() -> str:
    return f"+1415{3000000 + next(_numbers):07d}"


async def add_contacts(db: Database, tenant_id: UUID, *rows: dict[str, Any]) -> list[UUID]:
    """Insert one contact per dict (``first_name`` names it in assertions)."""
    async with db.tenant_session(tenant_id) as session:
        contacts = [Contact(tenant_id=tenant_id, phone_e164=phone(), **row) for row in rows]
        session.add_all(contacts)
        await session.flush()
        return [c.id for c in contacts]


async def matched(db: Database, tenant_id: UUID, rules: dict[str, Any]) -> set[str | None]:
    """First names of the contacts ``rules`` match, checked against the preview's count."""
    async with db.tenant_session(tenant_id) as session:
        preview = await service.preview_rules(session, tenant_id, rules, sample=100)
    names = {c.first_name for c in preview.sample}
    assert preview.count == len(preview.sample)
    return names


def cond(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"field": field, "op": op, **extra}
    if value is not None:
        body["value"] = value
    return body


def every(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"all": list(conditions)}
