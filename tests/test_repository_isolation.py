"""Each repository's tenant filter, proven on its own: the queries run as the owner role,
which row-level security does not bind, with rows of two tenants in the tables. Removing a
repository's ``tenant_id`` condition fails its test here even though RLS would hide the
mistake in production (and in every test that goes through ``db.tenant_session``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest_asyncio
from sqlalchemy import text

from herald.channel.repository import ChannelRepository
from herald.channel.schemas import ChannelFilters
from herald.contact.repository import ContactRepository
from herald.contact.schemas import ContactFilter, SortField, SortOrder
from herald.imports.repository import ImportRepository
from herald.kit.database import Database
from herald.kit.pagination import PageParams
from herald.kit.rls import APP_ROLE
from herald.message.repository import MessageRepository
from herald.message.schemas import MessageFilters
from herald.segment.repository import SegmentRepository
from herald.template.repository import TemplateRepository
from tests.conftest import TenantFixture
from tests.imports.helpers import csv_bytes, upload
from tests.message.helpers import make_channel, phone, send

PARAMS = PageParams(limit=200)


@dataclass
class Rows:
    """One tenant's row in each table the tests read."""

    contact: UUID
    segment: UUID
    batch: UUID
    file_sha256: str
    message: UUID
    channel: UUID
    template: UUID


async def _made(response: httpx.Response) -> UUID:
    assert response.status_code < 300, response.text
    return UUID(response.json()["id"])


async def rows_of(client: httpx.AsyncClient, db: Database, shop: TenantFixture) -> Rows:
    h = shop.headers
    number = phone()
    contact = await _made(await client.post("/v1/contacts", json={"phone": number}, headers=h))
    rules = {"all": [{"field": "tags", "op": "any", "value": ["vip"]}]}
    segment = await _made(
        await client.post("/v1/segments", json={"name": "VIP", "rules": rules}, headers=h)
    )
    body = csv_bytes("phone", phone())
    batch = await _made(await upload(client, shop, body))
    channel = await make_channel(db, shop.id)
    message = UUID((await send(client, shop, channel_id=channel, to=number, body="Hi"))["id"])
    template = {"name": "Hello", "body": "Hello {{ first_name }}. Reply STOP to opt out"}
    made = await _made(await client.post("/v1/templates", json=template, headers=h))
    sha = hashlib.sha256(body).hexdigest()
    return Rows(contact, segment, batch, sha, message, channel, made)


@pytest_asyncio.fixture
async def both(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> tuple[TenantFixture, Rows, Rows]:
    return tenant, await rows_of(client, db, tenant), await rows_of(client, db, other_tenant)


def ids(items: Any) -> set[UUID]:
    return {getattr(item, "id", None) or item[0].id for item in items}


def only_mine(items: Any, mine: UUID, theirs: UUID) -> None:
    found = ids(items)
    assert mine in found
    assert theirs not in found


async def test_the_owner_is_not_bound_by_row_security(db: Database, both: Any) -> None:
    """The premise: as the owner, a query without a tenant filter sees both tenants."""
    _tenant, mine, theirs = both
    async with db.system_session() as session:
        assert await session.scalar(text("SELECT current_user")) != APP_ROLE
        found = await session.scalar(
            text("SELECT count(*) FROM contacts WHERE id IN (:a, :b)"),
            {"a": mine.contact, "b": theirs.contact},
        )
    assert found == 2


async def test_contacts(db: Database, both: Any) -> None:
    tenant, mine, theirs = both
    async with db.system_session() as session:
        repo = ContactRepository(session)
        assert await repo.get_read(tenant.id, theirs.contact) is None
        assert await repo.get_for_update(tenant.id, theirs.contact) is None
        page = await repo.list_page(
            tenant.id, ContactFilter(), SortField.created_at, SortOrder.desc, PARAMS
        )
        only_mine(page.items, mine.contact, theirs.contact)


async def test_segments(db: Database, both: Any) -> None:
    tenant, mine, theirs = both
    async with db.system_session() as session:
        repo = SegmentRepository(session)
        assert await repo.get(tenant.id, theirs.segment) is None
        only_mine((await repo.list(tenant.id, PARAMS)).items, mine.segment, theirs.segment)


async def test_imports(db: Database, both: Any) -> None:
    tenant, mine, theirs = both
    async with db.system_session() as session:
        repo = ImportRepository(session)
        assert await repo.get_batch(tenant.id, theirs.batch) is None
        assert await repo.find_by_hash(tenant.id, theirs.file_sha256) is None
        only_mine((await repo.list_page(tenant.id, PARAMS)).items, mine.batch, theirs.batch)


async def test_messages(db: Database, both: Any) -> None:
    tenant, mine, theirs = both
    async with db.system_session() as session:
        repo = MessageRepository(session)
        assert await repo.get(tenant.id, theirs.message) is None
        page = await repo.list(tenant.id, MessageFilters(), PARAMS)
        only_mine(page.items, mine.message, theirs.message)


async def test_channels(db: Database, both: Any) -> None:
    tenant, mine, theirs = both
    async with db.system_session() as session:
        repo = ChannelRepository(session)
        assert await repo.get(tenant.id, theirs.channel) is None
        assert await repo.get_many(tenant.id, [theirs.channel]) == []
        only_mine(
            (await repo.list(tenant.id, ChannelFilters(), PARAMS)).items,
            mine.channel,
            theirs.channel,
        )


async def test_templates(db: Database, both: Any) -> None:
    tenant, mine, theirs = both
    async with db.system_session() as session:
        repo = TemplateRepository(session)
        assert await repo.get(tenant.id, theirs.template) is None
        only_mine((await repo.list(tenant.id, PARAMS)).items, mine.template, theirs.template)
