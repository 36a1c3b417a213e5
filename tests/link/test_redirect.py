"""GET /l/{token}: redirects, click counting, expiry, forgeries refused without the database."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import delete

from herald.kit.database import Database
from herald.link.models import ShortLink
from herald.link.tokens import ALPHABET
from tests.conftest import TenantFixture
from tests.link.helpers import (
    BROWSER,
    counting,
    expire,
    make_link,
    read_link,
    set_tenant_settings,
)
from tests.link.test_agents import PREVIEWS


def path_of(link: dict[str, object]) -> str:
    return f"/l/{link['token']}"


async def click(
    client: httpx.AsyncClient, path: str, agent: str = BROWSER, method: str = "GET"
) -> httpx.Response:
    return await client.request(method, path, headers={"user-agent": agent})


class TestRedirect:
    async def test_a_click_redirects_with_utm_and_is_counted(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        link = await make_link(
            client, tenant, target_url="https://shop.example/p?color=red#reviews"
        )
        response = await click(client, path_of(link))
        assert response.status_code == 302
        assert response.headers["cache-control"] == "no-store"
        location = response.headers["location"]
        assert location == (
            "https://shop.example/p?color=red&utm_source=herald&utm_medium=sms#reviews"
        )
        stats = await read_link(client, tenant, link["id"])
        assert (stats["clicks"], stats["human_clicks"]) == (1, 1)
        assert stats["first_clicked_at"] == stats["last_clicked_at"] is not None

        await click(client, path_of(link))
        again = await read_link(client, tenant, link["id"])
        assert (again["clicks"], again["human_clicks"]) == (2, 2)
        assert again["first_clicked_at"] == stats["first_clicked_at"]
        assert again["last_clicked_at"] > stats["last_clicked_at"]

    async def test_utm_the_target_already_has_is_kept(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        link = await make_link(
            client,
            tenant,
            target_url="https://shop.example/?utm_source=flyer",
            utm={"medium": "whatsapp", "campaign": "june", "content": "hero"},
        )
        location = (await click(client, path_of(link))).headers["location"]
        query = parse_qs(urlsplit(location).query)
        assert query == {
            "utm_source": ["flyer"],
            "utm_medium": ["whatsapp"],
            "utm_campaign": ["june"],
            "utm_content": ["hero"],
        }

    async def test_a_discount_code_goes_through_the_tenants_discount_url(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        await set_tenant_settings(
            client, tenant, discount_url="https://shop.example/discount/{code}?redirect={path}"
        )
        link = await make_link(
            client,
            tenant,
            target_url="https://shop.example/products/hat",
            discount_code="SPRING10",
            utm={"source": None, "medium": None},
        )
        location = (await click(client, path_of(link))).headers["location"]
        assert location == "https://shop.example/discount/SPRING10?redirect=/products/hat"

    async def test_a_code_without_a_discount_url_goes_to_the_target(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        link = await make_link(client, tenant, discount_code="SPRING10", utm={"source": None})
        location = (await click(client, path_of(link))).headers["location"]
        assert location == "https://shop.example/sale?utm_medium=sms"


class TestCounting:
    @pytest.mark.parametrize("agent", PREVIEWS)
    async def test_previews_count_as_clicks_not_as_people(
        self, client: httpx.AsyncClient, tenant: TenantFixture, agent: str
    ) -> None:
        link = await make_link(client, tenant)
        assert (await click(client, path_of(link), agent)).status_code == 302
        stats = await read_link(client, tenant, link["id"])
        assert (stats["clicks"], stats["human_clicks"]) == (1, 0)

    async def test_head_is_not_a_person(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        link = await make_link(client, tenant)
        assert (await click(client, path_of(link), method="HEAD")).status_code == 302
        stats = await read_link(client, tenant, link["id"])
        assert (stats["clicks"], stats["human_clicks"]) == (1, 0)

    async def test_concurrent_clicks_are_all_counted(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        link = await make_link(client, tenant)
        agents = [BROWSER] * 30 + ["WhatsApp/2.23.20.0 A"] * 20
        responses = await asyncio.gather(*(click(client, path_of(link), a) for a in agents))
        assert {r.status_code for r in responses} == {302}
        stats = await read_link(client, tenant, link["id"])
        assert (stats["clicks"], stats["human_clicks"]) == (50, 30)


class TestRefusals:
    async def test_an_expired_link_answers_410_without_revealing_its_target(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        link = await make_link(client, tenant, target_url="https://secret-offer.example/vip")
        await expire(db, link["id"])
        response = await click(client, path_of(link))
        assert response.status_code == 410
        assert response.headers["content-type"].startswith("text/html")
        assert "expired" in response.text
        assert "secret-offer" not in response.text and "location" not in response.headers
        stats = await read_link(client, tenant, link["id"])
        assert stats["clicks"] == 0 and stats["expired"] is True

    async def test_a_genuine_but_unknown_token_is_404(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        link = await make_link(client, tenant)
        async with db.system_session() as session:
            await session.execute(delete(ShortLink).where(ShortLink.token == link["token"]))
        response = await click(client, path_of(link))
        assert response.status_code == 404
        assert "not found" in response.text.lower()

    async def test_a_forged_token_is_refused_without_touching_the_database(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        token = (await make_link(client, tenant))["token"]
        last = ALPHABET[(ALPHABET.index(token[-1]) + 1) % len(ALPHABET)]
        forgeries = [token[:-1] + last, "abc", "x" * 200, token + "0", "%00" * 7]
        with counting(db) as seen:
            for forged in forgeries:
                response = await click(client, f"/l/{forged}")
                assert response.status_code == 404, forged
        assert seen.sql == [] and seen.checkouts == 0

        with counting(db) as seen:
            assert (await click(client, f"/l/{token}")).status_code == 302
        assert seen.checkouts == 1  # the genuine token: one connection, one driver-level query
