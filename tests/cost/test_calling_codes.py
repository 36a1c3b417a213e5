"""The calling-code table the audience query groups numbers by, as the app role reads it."""

from __future__ import annotations

from sqlalchemy import select

from herald.cost.models import CallingCode
from herald.kit.database import Database
from tests.conftest import TenantFixture


async def test_main_regions_and_prefix_free(db: Database, tenant: TenantFixture) -> None:
    async with db.tenant_session(tenant.id) as session:
        rows = dict((await session.execute(select(CallingCode.code, CallingCode.region))).all())
    assert {rows["1"], rows["44"], rows["49"], rows["55"], rows["91"], rows["7"]} == {
        "US",
        "GB",
        "DE",
        "BR",
        "IN",
        "RU",
    }
    assert "800" not in rows, "non-geographic codes have no country"
    codes = sorted(rows)
    assert not [(a, b) for a in codes for b in codes if a != b and b.startswith(a)]
