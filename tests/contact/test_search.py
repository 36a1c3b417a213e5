"""Phone-prefix search: the right numbers at the range's edges, served by the unique index
under row-level security, and never another tenant's."""

from __future__ import annotations

from uuid import UUID

import pytest
from sqlalchemy import select, text

from herald.contact.models import Contact
from herald.contact.repository import search
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.imports.helpers import add_contact

NUMBERS = ("+12990000000", "+12999999999", "+13000000000", "+12980000000", "+99912345678")


async def _found(db: Database, tenant_id: UUID, q: str) -> set[str]:
    async with db.tenant_session(tenant_id) as session:
        rows = await session.scalars(select(Contact.phone_e164).where(search(q)))
        return {phone for phone in rows if phone}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("+1299", {"+12990000000", "+12999999999"}),
        ("1 (299) 999", {"+12999999999"}),
        ("+1", {"+12990000000", "+12999999999", "+13000000000", "+12980000000"}),
        ("+999", {"+99912345678"}),
        ("+13", {"+13000000000"}),
        ("+4", set()),
    ],
)
async def test_prefix_edges(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture, q: str, expected: set[str]
) -> None:
    for phone in NUMBERS:
        await add_contact(db, tenant.id, phone_e164=phone)
    await add_contact(db, other_tenant.id, phone_e164="+12995550000")

    assert await _found(db, tenant.id, q) == expected


async def test_the_unique_index_serves_it_under_row_level_security(
    db: Database, tenant: TenantFixture
) -> None:
    async with db.system_session() as session:  # enough contacts for the range to be selective
        await session.execute(
            text(
                "INSERT INTO contacts (id, tenant_id, phone_e164) SELECT gen_random_uuid(), "
                ":tenant, '+1212' || (2000000 + n) FROM generate_series(1, 5000) AS n"
            ),
            {"tenant": tenant.id},
        )
        await session.execute(text("ANALYZE contacts"))
    async with db.tenant_session(tenant.id) as session:
        query = select(Contact.id).where(Contact.tenant_id == tenant.id, search("+1415555"))
        compiled = query.compile(compile_kwargs={"literal_binds": True})
        plan = "\n".join(await session.scalars(text(f"EXPLAIN {compiled}")))

    assert "uq_contacts_tenant_id_phone_e164" in plan, plan
