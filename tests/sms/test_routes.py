"""POST /v1/tools/sms-inspect: the inspection as JSON, the tenant's smart-encoding setting,
bounds, and who may call it."""

# ruff: noqa: RUF001 - look-alike characters are what these tests are about

from __future__ import annotations

from typing import Any

import httpx
import orjson

from herald.kit.context import Role
from herald.sms.encoding import inspect
from herald.sms.schemas import MAX_TEXT
from tests.conftest import TenantFixture

URL = "/v1/tools/sms-inspect"
CURLY = "We’re open “late” tonight — see you…"


async def post(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def turn_smart_on(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.patch(
        "/v1/tenant", json={"settings": {"smart_encoding": True}}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text


class TestInspect:
    async def test_answers_the_inspection(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        text = "Sale: 20€ off {today} 😀 " + "ж" * 60
        data = await post(client, await tenant.key_for(Role.viewer), text=text)
        assert data == orjson.loads(orjson.dumps(inspect(text)))
        assert data["encoding"] == "UCS-2"
        # 84 code points; in UCS-2 "€" and "{" are one unit each and the emoji two
        assert (data["segments"], data["units"], data["characters"]) == (2, 85, 84)
        assert data["ucs2_characters"] == ["😀", "ж"]
        assert "".join(data["parts"]) == text

    async def test_empty_text(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        data = await post(client, tenant.headers, text="")
        assert (data["segments"], data["parts"], data["encoding"]) == (0, [], "GSM-7")

    async def test_smart_explicitly(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        data = await post(client, tenant.headers, text=CURLY, smart_encoding=True)
        assert data["encoding"] == "GSM-7"
        assert data["text"] == 'We\'re open "late" tonight - see you...'
        assert {r["character"] for r in data["smart_replacements"]} == {"’", "“", "”", "—", "…"}
        off = await post(client, tenant.headers, text=CURLY, smart_encoding=False)
        assert (off["encoding"], off["smart"]) == ("UCS-2", False)

    async def test_null_follows_the_tenant_setting(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        assert (await post(client, tenant.headers, text=CURLY))["smart"] is False
        await turn_smart_on(client, tenant)
        mine = await post(client, tenant.headers, text=CURLY, smart_encoding=None)
        assert (mine["smart"], mine["encoding"]) == (True, "GSM-7")
        theirs = await post(client, other_tenant.headers, text=CURLY)
        assert (theirs["smart"], theirs["encoding"]) == (False, "UCS-2")
        forced_off = await post(client, tenant.headers, text=CURLY, smart_encoding=False)
        assert forced_off["encoding"] == "UCS-2"

    async def test_text_bound(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        longest = await post(client, tenant.headers, text="x" * MAX_TEXT)
        assert longest["segments"] == -(-MAX_TEXT // 153)
        response = await client.post(
            URL, json={"text": "x" * (MAX_TEXT + 1)}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "text" in response.json()["detail"]

    async def test_unknown_field_and_missing_text(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        unknown = await client.post(URL, json={"text": "hi", "smart": True}, headers=tenant.headers)
        assert unknown.status_code == 422
        missing = await client.post(URL, json={}, headers=tenant.headers)
        assert missing.status_code == 422

    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        response = await client.post(URL, json={"text": "hi"})
        assert response.status_code == 401
