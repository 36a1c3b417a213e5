"""Rules are refused with every problem and its JSON path; hostile input is data or a 422."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from herald.contact.models import Contact
from herald.kit.database import Database
from herald.segment.compiler import MAX_CONDITIONS, MAX_DEPTH, MAX_LISTED
from tests.conftest import TenantFixture
from tests.segment.helpers import add_contacts, cond, every, matched


async def problems(client: httpx.AsyncClient, tenant: TenantFixture, rules: Any) -> dict[str, str]:
    response = await client.post(
        "/v1/segments/preview", json={"rules": rules}, headers=tenant.headers
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("The "), body
    return {e["field"]: e["message"] for e in body["errors"]}


class TestPaths:
    async def test_every_problem_is_listed_with_its_path(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        rules = every(
            cond("first_name", "eq", "Ana"),
            cond("favourite_colour", "eq", "red"),
            cond("first_name", "greater", "A"),
            cond("tags", "any", "vip"),
            {"any": [cond("birthday", "in_next_days", 400)]},
            {"not": cond("custom.size", "gt", 3, type="shoe")},
            cond("unread_count", "gt", "3"),
            cond("created_at", "between", ["2026-02-01", "2026-01-01"]),
            cond("sms_status", "eq", "subscribed"),
        )
        response = await client.post(
            "/v1/segments/preview", json={"rules": rules}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert response.json()["detail"].startswith("The segment rules are invalid.")
        assert "rules.all[1].field" in response.json()["detail"]
        found = await problems(client, tenant, rules)
        assert set(found) == {
            "rules.all[1].field",
            "rules.all[2].op",
            "rules.all[3].value",
            "rules.all[4].any[0].value",
            "rules.all[5].not.type",
            "rules.all[6].value",
            "rules.all[7].value",
            "rules.all[8].value",
        }
        assert "favourite_colour" in found["rules.all[1].field"]
        assert "contains" in found["rules.all[2].op"]
        assert "opted_in" in found["rules.all[8].value"]

    @pytest.mark.parametrize(
        ("rules", "path"),
        [
            ([cond("first_name", "eq", "A")], "rules"),
            ({"all": [], "any": []}, "rules"),
            ({"any": []}, "rules.any"),
            ({"all": "x"}, "rules.all"),
            ({"all": [42]}, "rules.all[0]"),
            ({"all": [{"op": "eq"}]}, "rules.all[0]"),
            (every(cond("first_name", "eq", "A", extra=1)), "rules.all[0]"),
            (every(cond("first_name", "is_set", "yes")), "rules.all[0].value"),
            (every(cond("first_name", "eq", "A", type="string")), "rules.all[0].type"),
            (every(cond("custom.", "exists")), "rules.all[0].field"),
            (every(cond("birth_date", "within_last_days", 3)), "rules.all[0].op"),
            (every(cond("created_at", "before", "last tuesday")), "rules.all[0].value"),
            (every(cond("first_name", "eq", "x" * 501)), "rules.all[0].value"),
        ],
    )
    async def test_shape(
        self, client: httpx.AsyncClient, tenant: TenantFixture, rules: Any, path: str
    ) -> None:
        assert path in await problems(client, tenant, rules)

    async def test_depth_limit(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        rules: dict[str, Any] = cond("first_name", "eq", "A")
        for _ in range(MAX_DEPTH):
            rules = {"not": rules}
        response = await client.post(
            "/v1/segments/preview", json={"rules": rules}, headers=tenant.headers
        )
        assert response.status_code == 200
        found = await problems(client, tenant, {"all": [rules]})
        assert any("levels deep" in message for message in found.values())

    async def test_condition_limit(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        many = every(*[cond("first_name", "eq", str(n)) for n in range(MAX_CONDITIONS + 1)])
        found = await problems(client, tenant, many)
        assert f"at most {MAX_CONDITIONS} conditions" in found["rules"]

    async def test_problems_listed_are_capped(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        wrong = every(*[cond(f"nope{n}", "eq", "x") for n in range(MAX_CONDITIONS)])
        response = await client.post(
            "/v1/segments/preview", json={"rules": wrong}, headers=tenant.headers
        )
        errors = response.json()["errors"]
        assert len(errors) == MAX_LISTED
        assert "(and 195 more)" in response.json()["detail"]


class TestInjection:
    HOSTILE = ("'; DROP TABLE contacts; --", "') OR 1=1 --", 'x" OR "1"="1', "%", "_", "\\")

    @pytest.fixture
    async def people(self, db: Database, tenant: TenantFixture) -> None:
        await add_contacts(
            db,
            tenant.id,
            {"first_name": "Ana", "custom_fields": {"plan": "gold"}},
            {"first_name": "Bob", "custom_fields": {"x') OR 1=1 --": "y", "plan": "silver"}},
            {"first_name": "') OR 1=1 --", "tags": ["'; DROP TABLE contacts; --"]},
        )

    @pytest.mark.parametrize(
        "field",
        [
            "first_name; DROP TABLE contacts; --",
            "first_name') OR 1=1 --",
            "contacts.first_name",
            "custom",
            "tenant_id",
        ],
    )
    async def test_field_names_are_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture, field: str
    ) -> None:
        assert "rules.all[0].field" in await problems(client, tenant, every(cond(field, "eq", "x")))

    async def test_operators_are_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        rules = every(cond("first_name", "= 'x' OR 1=1 --", "x"))
        assert "rules.all[0].op" in await problems(client, tenant, rules)

    @pytest.mark.parametrize("value", HOSTILE)
    async def test_values_are_plain_data(
        self, db: Database, tenant: TenantFixture, people: None, value: str
    ) -> None:
        """Only the contact literally named ``') OR 1=1 --`` can match, and only when the value
        really is (part of) that name: ``%`` and ``_`` are not wildcards either."""
        name = "') OR 1=1 --"
        hits = {
            "eq": name == value,
            "contains": value.lower() in name.lower(),
            "starts_with": name.lower().startswith(value.lower()),
        }
        for op, hit in hits.items():
            expected = {name} if hit else set()
            assert await matched(db, tenant.id, every(cond("first_name", op, value))) == expected
            found = await matched(db, tenant.id, every(cond(f"custom.{value}", op, value)))
            assert found == set()

    async def test_custom_keys_are_plain_data(
        self, db: Database, tenant: TenantFixture, people: None
    ) -> None:
        hostile_key = "custom.x') OR 1=1 --"
        assert await matched(db, tenant.id, every(cond(hostile_key, "exists"))) == {"Bob"}
        assert await matched(db, tenant.id, every(cond(hostile_key, "eq", "y"))) == {"Bob"}
        hostile_gt = every(cond("custom.plan' OR '1'='1", "gt", 0, type="number"))
        assert await matched(db, tenant.id, hostile_gt) == set()

    async def test_tags_are_plain_data(
        self, db: Database, tenant: TenantFixture, people: None
    ) -> None:
        hostile = every(cond("tags", "any", ["'; DROP TABLE contacts; --"]))
        assert await matched(db, tenant.id, hostile) == {"') OR 1=1 --"}
        async with db.tenant_session(tenant.id) as session:
            remaining = await session.scalar(
                select(func.count()).select_from(Contact).where(Contact.tenant_id == tenant.id)
            )
        assert remaining == 3


class TestOutOfRangeValues:
    """Values Python or PostgreSQL cannot compute with answer 422, not 500."""

    async def test_dates_and_numbers_at_the_edges(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        for condition in (
            {"field": "created_at", "op": "after", "value": "9999-12-31"},
            {"field": "created_at", "op": "between", "value": ["2026-01-01", "9999-12-31"]},
            {"field": "unread_count", "op": "eq", "value": 10**40},
        ):
            response = await client.post(
                "/v1/segments/preview", json={"rules": {"all": [condition]}}, headers=tenant.headers
            )
            assert response.status_code == 422, (condition, response.text)
