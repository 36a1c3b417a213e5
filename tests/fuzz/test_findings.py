"""What the fuzzer found, pinned down so it stays fixed."""

from __future__ import annotations

import httpx

from tests.conftest import TenantFixture


async def test_a_null_setting_goes_back_to_its_default(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """``PATCH /v1/tenant`` with ``smart_encoding: null`` answered 500 (the merged settings
    failed validation after the request had passed it)."""
    changed = {"settings": {"smart_encoding": True, "default_language": "fr"}}
    await client.patch("/v1/tenant", json=changed, headers=tenant.headers)
    reset = {
        "settings": {"smart_encoding": None, "append_opt_out_footer": None, "business_name": None}
    }
    response = await client.patch("/v1/tenant", json=reset, headers=tenant.headers)
    assert response.status_code == 200
    settings = response.json()["settings"]
    assert settings["smart_encoding"] is False
    assert settings["append_opt_out_footer"] is True
    assert settings["default_language"] == "fr"


async def test_the_provider_list_is_stated_in_the_document(client: httpx.AsyncClient) -> None:
    """A schema-valid channel was refused for an unknown provider: the schema names them now."""
    document = (await client.get("/openapi.json")).json()
    provider = document["components"]["schemas"]["ChannelCreate"]["properties"]["provider"]
    assert {"simulator", "twilio"} <= set(provider["enum"])
