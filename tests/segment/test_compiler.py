"""Each operator family against real contacts, nested groups, and the birthday window."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from herald.contact.models import ConsentStatus, Gender
from herald.kit.database import Database
from herald.segment.compiler import CompileContext, compile_rules, upcoming_birthdays
from herald.segment.repository import SegmentRepository
from herald.segment.service import compile_context
from tests.conftest import MakeTenant, TenantFixture
from tests.segment.helpers import add_contacts, cond, every, matched


class TestText:
    @pytest.fixture
    async def people(self, db: Database, tenant: TenantFixture) -> None:
        await add_contacts(
            db,
            tenant.id,
            {"first_name": "Ana", "company": "Acme 100% Ltd", "email": "ana@shop.test"},
            {"first_name": "Bob", "company": "acme_corp", "email": "bob@mail.test"},
            {"first_name": "Cid", "company": None},
        )

    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            (cond("first_name", "eq", "Ana"), {"Ana"}),
            (cond("first_name", "ne", "Ana"), {"Bob", "Cid"}),
            (cond("company", "ne", "acme_corp"), {"Ana", "Cid"}),
            (cond("first_name", "in", ["Ana", "Cid", "Zed"]), {"Ana", "Cid"}),
            (cond("company", "not_in", ["acme_corp"]), {"Ana", "Cid"}),
            (cond("company", "contains", "ACME"), {"Ana", "Bob"}),
            (cond("company", "contains", "100%"), {"Ana"}),
            (cond("company", "contains", "e_c"), {"Bob"}),
            (cond("email", "starts_with", "bob@"), {"Bob"}),
            (cond("company", "is_set"), {"Ana", "Bob"}),
            (cond("company", "is_not_set"), {"Cid"}),
        ],
    )
    async def test_operator(
        self,
        db: Database,
        tenant: TenantFixture,
        people: None,
        condition: dict[str, Any],
        expected: set[str],
    ) -> None:
        assert await matched(db, tenant.id, every(condition)) == expected


class TestChoicesFlagsNumbers:
    @pytest.fixture
    async def people(self, db: Database, tenant: TenantFixture) -> None:
        await add_contacts(
            db,
            tenant.id,
            {
                "first_name": "Ana",
                "gender": Gender.female,
                "sms_status": ConsentStatus.opted_in,
                "unread_count": 3,
            },
            {
                "first_name": "Bob",
                "gender": Gender.male,
                "whatsapp_status": ConsentStatus.opted_out,
                "blocked": True,
            },
            {"first_name": "Cid", "sms_status": ConsentStatus.implied, "unread_count": 1},
        )

    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            (cond("gender", "eq", "female"), {"Ana"}),
            (cond("gender", "in", ["female", "male"]), {"Ana", "Bob"}),
            (cond("gender", "ne", "male"), {"Ana", "Cid"}),
            (cond("gender", "is_not_set"), {"Cid"}),
            (cond("sms_status", "eq", "opted_in"), {"Ana"}),
            (cond("sms_status", "in", ["opted_in", "implied"]), {"Ana", "Cid"}),
            (cond("whatsapp_status", "ne", "opted_out"), {"Ana", "Cid"}),
            (cond("blocked", "eq", True), {"Bob"}),
            (cond("blocked", "ne", True), {"Ana", "Cid"}),
            (cond("unread_count", "gt", 1), {"Ana"}),
            (cond("unread_count", "lte", 1), {"Bob", "Cid"}),
        ],
    )
    async def test_operator(
        self,
        db: Database,
        tenant: TenantFixture,
        people: None,
        condition: dict[str, Any],
        expected: set[str],
    ) -> None:
        assert await matched(db, tenant.id, every(condition)) == expected


class TestDates:
    @pytest.fixture
    async def people(self, db: Database, make_tenant: MakeTenant) -> TenantFixture:
        """A tenant in Paris: 2026-03-01 23:30 UTC is already 2 March there."""
        shop = await make_tenant("Paris", country="FR", timezone="Europe/Paris")
        now = datetime.now(UTC)
        await add_contacts(
            db,
            shop.id,
            {
                "first_name": "Old",
                "created_at": datetime(2020, 1, 1, 12, tzinfo=UTC),
                "birth_date": date(1980, 5, 1),
            },
            {
                "first_name": "Late",
                "created_at": datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
                "birth_date": date(1995, 7, 15),
                "last_sent_at": now,
            },
            {"first_name": "New", "created_at": now},
        )
        return shop

    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            (cond("created_at", "before", "2026-03-02"), {"Old"}),
            (cond("created_at", "after", "2026-03-01"), {"Late", "New"}),
            (cond("created_at", "between", ["2026-03-02", "2026-03-02"]), {"Late"}),
            (cond("created_at", "within_last_days", 1), {"New"}),
            (cond("created_at", "more_than_days_ago", 30), {"Old", "Late"}),
            (cond("last_sent_at", "is_not_set"), {"Old", "New"}),
            (cond("last_sent_at", "within_last_days", 7), {"Late"}),
            (cond("birth_date", "before", "1990-01-01"), {"Old"}),
            (cond("birth_date", "after", "1980-05-01"), {"Late"}),
            (cond("birth_date", "between", ["1980-05-01", "1995-07-15"]), {"Old", "Late"}),
            (cond("birth_date", "is_set"), {"Old", "Late"}),
            (cond("birthday", "month_is", 7), {"Late"}),
            (cond("birthday", "day_is", 1), {"Old"}),
        ],
    )
    async def test_operator(
        self, db: Database, people: TenantFixture, condition: dict[str, Any], expected: set[str]
    ) -> None:
        assert await matched(db, people.id, every(condition)) == expected


class TestTags:
    @pytest.fixture
    async def people(self, db: Database, tenant: TenantFixture) -> None:
        await add_contacts(
            db,
            tenant.id,
            {"first_name": "Ana", "tags": ["vip", "newsletter"]},
            {"first_name": "Bob", "tags": ["vip"]},
            {"first_name": "Cid", "tags": []},
        )

    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            (cond("tags", "any", ["newsletter", "nope"]), {"Ana"}),
            (cond("tags", "all", ["vip", "newsletter"]), {"Ana"}),
            (cond("tags", "all", ["vip"]), {"Ana", "Bob"}),
            (cond("tags", "none", ["newsletter"]), {"Bob", "Cid"}),
            (cond("tags", "empty"), {"Cid"}),
            (cond("tags", "empty", False), {"Ana", "Bob"}),
        ],
    )
    async def test_operator(
        self,
        db: Database,
        tenant: TenantFixture,
        people: None,
        condition: dict[str, Any],
        expected: set[str],
    ) -> None:
        assert await matched(db, tenant.id, every(condition)) == expected


class TestCustomFields:
    @pytest.fixture
    async def people(self, db: Database, tenant: TenantFixture) -> None:
        """Typed JSON, the same values as strings (as CSV imports store them), and junk."""
        await add_contacts(
            db,
            tenant.id,
            {
                "first_name": "Ana",
                "custom_fields": {"plan": "Gold", "orders": 12, "vip": True, "since": "2024-02-01"},
            },
            {
                "first_name": "Bob",
                "custom_fields": {
                    "plan": "silver",
                    "orders": "3",
                    "vip": "false",
                    "since": "2025-06-30T10:00:00Z",
                },
            },
            {
                "first_name": "Cid",
                "custom_fields": {"orders": "many", "vip": "maybe", "since": "2025-02-31"},
            },
        )

    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            (cond("custom.plan", "eq", "Gold", type="string"), {"Ana"}),
            (cond("custom.plan", "eq", "Gold"), {"Ana"}),
            (cond("custom.plan", "ne", "Gold"), {"Bob", "Cid"}),
            (cond("custom.plan", "contains", "ILV"), {"Bob"}),
            (cond("custom.plan", "starts_with", "g"), {"Ana"}),
            (cond("custom.plan", "in", ["Gold", "silver"]), {"Ana", "Bob"}),
            (cond("custom.plan", "exists"), {"Ana", "Bob"}),
            (cond("custom.plan", "exists", False), {"Cid"}),
            (cond("custom.orders", "gt", 5, type="number"), {"Ana"}),
            (cond("custom.orders", "lte", 3.5, type="number"), {"Bob"}),
            (cond("custom.orders", "in", [3, 12], type="number"), {"Ana", "Bob"}),
            (cond("custom.orders", "ne", 12, type="number"), {"Bob", "Cid"}),
            (cond("custom.vip", "eq", True, type="boolean"), {"Ana"}),
            (cond("custom.vip", "eq", False, type="boolean"), {"Bob"}),
            (cond("custom.since", "lt", "2025-01-01", type="date"), {"Ana"}),
            (cond("custom.since", "gte", "2025-06-30", type="date"), {"Bob"}),
            (cond("custom.since", "eq", "2025-06-30", type="date"), {"Bob"}),
        ],
    )
    async def test_operator(
        self,
        db: Database,
        tenant: TenantFixture,
        people: None,
        condition: dict[str, Any],
        expected: set[str],
    ) -> None:
        assert await matched(db, tenant.id, every(condition)) == expected


class TestGroups:
    @pytest.fixture
    async def people(self, db: Database, tenant: TenantFixture) -> None:
        await add_contacts(
            db,
            tenant.id,
            {"first_name": "Ana", "gender": Gender.female, "tags": ["vip"]},
            {"first_name": "Bea", "gender": Gender.female, "tags": []},
            {"first_name": "Bob", "gender": Gender.male, "tags": ["vip"]},
            {"first_name": "Cid", "tags": []},
        )

    @pytest.mark.parametrize(
        ("rules", "expected"),
        [
            ({"all": []}, {"Ana", "Bea", "Bob", "Cid"}),
            (
                every(cond("gender", "eq", "female"), cond("tags", "any", ["vip"])),
                {"Ana"},
            ),
            (
                {"any": [cond("gender", "eq", "male"), cond("first_name", "eq", "Bea")]},
                {"Bob", "Bea"},
            ),
            ({"not": cond("gender", "eq", "female")}, {"Bob", "Cid"}),
            (
                every(
                    {"any": [cond("tags", "any", ["vip"]), cond("gender", "is_not_set")]},
                    {"not": {"all": [cond("gender", "eq", "male")]}},
                ),
                {"Ana", "Cid"},
            ),
            (
                {"not": {"any": [cond("first_name", "eq", "Ana"), {"not": cond("tags", "empty")}]}},
                {"Bea", "Cid"},
            ),
        ],
    )
    async def test_nesting(
        self,
        db: Database,
        tenant: TenantFixture,
        people: None,
        rules: dict[str, Any],
        expected: set[str],
    ) -> None:
        assert await matched(db, tenant.id, rules) == expected


class TestBirthdayWindow:
    @pytest.mark.parametrize(
        ("today", "days", "keys"),
        [
            (date(2026, 3, 10), 2, {310, 311, 312}),
            (date(2026, 12, 30), 3, {1230, 1231, 101, 102}),
            (date(2027, 2, 27), 1, {227, 228, 229}),
            (date(2028, 2, 27), 1, {227, 228}),
            (date(2028, 2, 27), 2, {227, 228, 229}),
        ],
    )
    def test_upcoming_birthdays(self, today: date, days: int, keys: set[int]) -> None:
        assert upcoming_birthdays(today, days) == keys

    def test_a_year_or_more_is_every_day(self) -> None:
        assert len(upcoming_birthdays(date(2026, 6, 1), 366)) == 366

    @pytest.fixture
    async def people(self, db: Database, tenant: TenantFixture) -> None:
        await add_contacts(
            db,
            tenant.id,
            {"first_name": "Dec30", "birth_date": date(1990, 12, 30)},
            {"first_name": "Old", "birth_date": date(1899, 1, 3)},
            {"first_name": "Jan2", "birth_date": date(1985, 1, 2)},
            {"first_name": "Jan9", "birth_date": date(2001, 1, 9)},
            {"first_name": "Leap", "birth_date": date(1996, 2, 29)},
            {"first_name": "Mar1", "birth_date": date(1970, 3, 1)},
            {"first_name": "Never"},
        )

    async def names_at(
        self, db: Database, tenant: TenantFixture, now: datetime, days: int, tz: str = "UTC"
    ) -> set[str]:
        rules = every(cond("birthday", "in_next_days", days))
        where = compile_rules(rules, CompileContext.for_timezone(tz, now))
        async with db.tenant_session(tenant.id) as session:
            contacts = await SegmentRepository(session).sample(tenant.id, where, 100)
        return {c.first_name for c in contacts if c.first_name}

    async def test_across_new_year(self, db: Database, tenant: TenantFixture, people: None) -> None:
        now = datetime(2026, 12, 28, 12, tzinfo=UTC)
        assert await self.names_at(db, tenant, now, 7) == {"Dec30", "Jan2", "Old"}

    async def test_today_is_the_tenants_today(
        self, db: Database, tenant: TenantFixture, people: None
    ) -> None:
        """31 December 12:00 UTC is already 1 January in Auckland: 30 December is behind."""
        now = datetime(2026, 12, 31, 12, tzinfo=UTC)
        assert await self.names_at(db, tenant, now, 1) == set()
        assert await self.names_at(db, tenant, now, 1, "Pacific/Auckland") == {"Jan2"}

    async def test_leap_day_on_28_february_in_common_years(
        self, db: Database, tenant: TenantFixture, people: None
    ) -> None:
        common = datetime(2027, 2, 27, 12, tzinfo=UTC)
        assert await self.names_at(db, tenant, common, 1) == {"Leap"}
        leap = datetime(2028, 2, 27, 12, tzinfo=UTC)
        assert await self.names_at(db, tenant, leap, 1) == set()
        assert await self.names_at(db, tenant, leap, 2) == {"Leap"}
        assert await self.names_at(db, tenant, leap, 3) == {"Leap", "Mar1"}

    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            (cond("birthday", "month_is", 1), {"Jan2", "Jan9", "Old"}),
            (cond("birthday", "month_is", 2), {"Leap"}),
            (cond("birthday", "day_is", 29), {"Leap"}),
            (cond("birthday", "day_is", 3), {"Old"}),
            (
                cond("birthday", "in_next_days", 366),
                {"Dec30", "Jan2", "Jan9", "Leap", "Mar1", "Old"},
            ),
        ],
    )
    async def test_month_and_day(
        self,
        db: Database,
        tenant: TenantFixture,
        people: None,
        condition: dict[str, Any],
        expected: set[str],
    ) -> None:
        assert await matched(db, tenant.id, every(condition)) == expected

    async def test_context_uses_the_tenant_time_zone(
        self, db: Database, make_tenant: MakeTenant
    ) -> None:
        shop = await make_tenant("Kiwi", country="NZ", timezone="Pacific/Auckland")
        async with db.tenant_session(shop.id) as session:
            ctx = await compile_context(session, shop.id)
        assert ctx.tz.key == "Pacific/Auckland"
