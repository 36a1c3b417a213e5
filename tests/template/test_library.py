"""The shared template library: browsing, copying into an account, and counting uses."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from herald.kit.context import Role
from herald.kit.database import Database
from herald.template.models import TemplateUsage
from herald.template.render import RenderContext, render_template, validate_template
from herald.template.service import unique_name
from tests.conftest import TenantFixture

EXPECTED_CATEGORIES = {
    "welcome",
    "birthday",
    "abandoned_cart",
    "order_confirmation",
    "shipping_update",
    "review_request",
    "win_back",
    "sale",
}


async def entries(client: httpx.AsyncClient, tenant: TenantFixture, **params: Any) -> list[Any]:
    response = await client.get("/v1/template-library", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def entry(client: httpx.AsyncClient, tenant: TenantFixture, slug: str) -> dict[str, Any]:
    found = [e for e in await entries(client, tenant, limit=100) if e["slug"] == slug]
    assert found
    item: dict[str, Any] = found[0]
    return item


async def test_seeded_entries_are_valid_and_render(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    items = await entries(client, tenant, limit=100)
    assert {e["category"] for e in items} >= EXPECTED_CATEGORIES
    context = RenderContext(business_name="Shop", link="https://s.example/l/x", discount_code="C")
    for item in items:
        assert validate_template(item["body"]).unknown_variables == ()
        text = render_template(item["body"], context)
        assert "Shop" in text and "https://s.example/l/x" in text and "{" not in text


async def test_filters_and_pages(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    carts = await entries(client, tenant, category="abandoned_cart")
    assert carts and all(e["category"] == "abandoned_cart" for e in carts)
    tagged = await entries(client, tenant, tag="discount")
    assert tagged and all("discount" in e["tags"] for e in tagged)
    first = await client.get("/v1/template-library?limit=3", headers=tenant.headers)
    cursor = first.json()["next_cursor"]
    second = await client.get(
        f"/v1/template-library?limit=3&cursor={cursor}", headers=tenant.headers
    )
    first_ids = {e["id"] for e in first.json()["items"]}
    assert not first_ids & {e["id"] for e in second.json()["items"]}


async def test_read_one_and_missing(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    welcome = await entry(client, tenant, "welcome")
    read = await client.get(f"/v1/template-library/{welcome['id']}", headers=tenant.headers)
    assert read.json()["name"] == "Welcome"
    missing = await client.get(
        "/v1/template-library/0190a000-0000-7000-8000-000000000000", headers=tenant.headers
    )
    assert missing.status_code == 404


async def test_use_copies_dedupes_names_and_counts(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture, db: Database
) -> None:
    sale = await entry(client, tenant, "sale")
    url = f"/v1/template-library/{sale['id']}/use"
    names = []
    for _ in range(3):
        response = await client.post(url, headers=tenant.headers)
        assert response.status_code == 201, response.text
        copy = response.json()
        assert copy["body"] == sale["body"] and copy["library_template_id"] == sale["id"]
        names.append(copy["name"])
    assert names == ["Sale announcement", "Sale announcement (2)", "Sale announcement (3)"]
    named = await client.post(url, json={"name": "Black Friday"}, headers=other_tenant.headers)
    assert named.json()["name"] == "Black Friday"
    again = await client.post(url, json={"name": "Black Friday"}, headers=other_tenant.headers)
    assert again.status_code == 409

    assert (await entry(client, tenant, "sale"))["use_count"] == sale["use_count"] + 4
    async with db.tenant_session(tenant.id) as session:
        usages = (await session.scalars(select(TemplateUsage))).all()
    assert [(u.tenant_id, u.used_count) for u in usages] == [(tenant.id, 3)]
    theirs = await client.get("/v1/templates", headers=other_tenant.headers)
    assert [t["name"] for t in theirs.json()["items"]] == ["Black Friday"]


async def test_use_needs_manager(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    welcome = await entry(client, tenant, "welcome")
    agent = await tenant.key_for(Role.agent)
    url = f"/v1/template-library/{welcome['id']}/use"
    assert (await client.post(url, headers=agent)).status_code == 403
    assert (await client.get("/v1/template-library", headers=agent)).status_code == 200


async def test_app_role_cannot_write_the_library(tenant: TenantFixture, db: Database) -> None:
    async with db.tenant_session(tenant.id) as session:
        try:
            await session.execute(text("UPDATE template_library SET use_count = 0"))
        except ProgrammingError as exc:
            assert "permission denied" in str(exc)
        else:
            raise AssertionError("the app role changed the shared library")


def test_unique_name() -> None:
    assert unique_name("Sale", set()) == "Sale"
    assert unique_name("Sale", {"Sale", "Sale (2)", "Sale (4)"}) == "Sale (3)"
