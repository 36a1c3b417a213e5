"""``resolve_audience``: what a campaign launch targets, rules re-evaluated at that moment."""

from __future__ import annotations

import pytest

from herald.contact.models import Contact
from herald.kit.database import Database
from herald.kit.errors import NotFound
from herald.kit.pagination import PageParams
from herald.segment import service
from herald.segment.schemas import SegmentCreate
from tests.conftest import TenantFixture
from tests.segment.helpers import add_contacts


async def test_resolve_audience_re_evaluates_the_rules(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    ana, bob = await add_contacts(
        db, tenant.id, {"first_name": "Ana", "tags": ["vip"]}, {"first_name": "Bob"}
    )
    await add_contacts(db, other_tenant.id, {"first_name": "Twin", "tags": ["vip"]})
    async with db.tenant_session(tenant.id) as session:
        segment = await service.create_segment(session, tenant.id, SegmentCreate(preset="tag:vip"))
        await service.refresh_segment(session, tenant.id, segment.id)
    async with db.tenant_session(tenant.id) as session:
        (await session.get_one(Contact, bob)).tags = ["vip"]
    async with db.tenant_session(tenant.id) as session:
        audience = await service.resolve_audience(session, tenant.id, segment.id)
        ids = set((await session.scalars(audience.with_only_columns(Contact.id))).all())
        stale = await service.list_members(session, tenant.id, segment.id, PageParams(limit=100))
    assert ids == {ana, bob}
    assert {c.id for c in stale.items} == {ana}


async def test_resolve_audience_of_another_tenants_segment(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    async with db.tenant_session(tenant.id) as session:
        segment = await service.create_segment(session, tenant.id, SegmentCreate(preset="all"))
    async with db.tenant_session(other_tenant.id) as session:
        with pytest.raises(NotFound):
            await service.resolve_audience(session, other_tenant.id, segment.id)
