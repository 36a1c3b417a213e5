"""Row-level security holds even when a query forgets its tenant filter."""

from __future__ import annotations

from sqlalchemy import func, select, text

from herald.auth.models import ApiKey
from herald.contact.models import Contact
from herald.kit.database import Database
from herald.tenant.models import Tenant
from tests.conftest import TenantFixture


async def test_unfiltered_select_sees_only_the_scoped_tenant(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    async with db.tenant_session(tenant.id) as session:
        keys = list(await session.scalars(select(ApiKey)))  # no tenant filter, on purpose
        tenants = list(await session.scalars(select(Tenant)))
    assert keys and {k.tenant_id for k in keys} == {tenant.id}
    assert [t.id for t in tenants] == [tenant.id]


async def test_insert_into_another_tenant_is_refused(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    async with db.tenant_session(tenant.id) as session:
        savepoint = await session.begin_nested()
        try:
            session.add(Contact(tenant_id=other_tenant.id, phone_e164="+14155550100"))
            await session.flush()
        except Exception as exc:
            await savepoint.rollback()
            assert "row-level security" in str(exc)
        else:
            raise AssertionError("RLS let a row into another tenant")
    async with db.tenant_session(other_tenant.id) as session:
        count = await session.scalar(select(func.count()).select_from(Contact))
    assert count == 0


async def test_update_without_filter_touches_only_the_scoped_tenant(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    async with db.tenant_session(tenant.id) as session:
        await session.execute(text("UPDATE tenants SET name = 'changed by a careless query'"))
    async with db.system_session() as session:
        other = await session.get(Tenant, other_tenant.id)
        mine = await session.get(Tenant, tenant.id)
    assert other is not None and other.name == "Second Shop"
    assert mine is not None and mine.name == "changed by a careless query"


async def test_no_tenant_setting_sees_nothing(db: Database, tenant: TenantFixture) -> None:
    async with db.sessionmaker() as session, session.begin():
        await session.execute(text("SET LOCAL ROLE herald_app"))
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == 0
