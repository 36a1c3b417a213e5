"""The consent rule: opted-out contacts never silently return; every change leaves proof."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import String, literal, select

from herald.contact.consent import (
    ConsentLocked,
    check_transition,
    guarded_status_sql,
    is_allowed,
    would_downgrade_sql,
)
from herald.contact.models import ChannelKind, ConsentStatus
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.contact.helpers import create_contact

S = ConsentStatus


class TestRule:
    @pytest.mark.parametrize("new", [S.opted_in, S.implied, S.unknown])
    def test_opted_out_needs_resubscribe(self, new: ConsentStatus) -> None:
        assert not is_allowed(S.opted_out, new, resubscribe=False)
        assert is_allowed(S.opted_out, new, resubscribe=True)
        with pytest.raises(ConsentLocked) as caught:
            check_transition(ChannelKind.whatsapp, S.opted_out, new)
        assert '"resubscribe": true' in caught.value.detail
        assert "whatsapp" in caught.value.detail

    @pytest.mark.parametrize("current", [None, S.unknown, S.implied, S.opted_in, S.opted_out])
    @pytest.mark.parametrize("new", list(S))
    def test_other_changes_are_free(
        self, current: ConsentStatus | None, new: ConsentStatus
    ) -> None:
        if current is S.opted_out and new is not S.opted_out:
            return
        assert is_allowed(current, new, resubscribe=False)

    @pytest.mark.parametrize(
        ("current", "incoming", "stored", "refused"),
        [
            ("opted_out", "opted_in", "opted_out", True),
            ("opted_out", None, "opted_out", False),
            ("opted_out", "opted_out", "opted_out", False),
            ("unknown", "opted_in", "opted_in", False),
            ("opted_in", "opted_out", "opted_out", False),
            ("implied", None, "implied", False),
        ],
    )
    async def test_sql_form_matches(
        self,
        db: Database,
        current: str,
        incoming: str | None,
        stored: str,
        refused: bool,
    ) -> None:
        cur, inc = literal(current, String), literal(incoming, String)
        async with db.system_session() as session:
            row = (
                await session.execute(
                    select(guarded_status_sql(cur, inc), would_downgrade_sql(cur, inc))
                )
            ).one()
        assert tuple(row) == (stored, refused)


async def consent(
    client: httpx.AsyncClient, tenant: TenantFixture, contact_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/contacts/{contact_id}/consent", json=body, headers=tenant.headers
    )


class TestApi:
    async def test_normal_change_records_proof(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant)
        response = await consent(
            client,
            tenant,
            contact["id"],
            channel="sms",
            status="opted_in",
            method="form",
            source="checkout page",
            wording="Send me offers by SMS",
        )
        assert response.status_code == 201, response.text
        event = response.json()
        assert event["previous_status"] == "unknown"
        assert event["method"] == "form"
        assert event["wording"] == "Send me offers by SMS"
        assert event["actor"].startswith("api_key:")
        got = await client.get(f"/v1/contacts/{contact['id']}", headers=tenant.headers)
        assert got.json()["sms_status"] == "opted_in"
        assert got.json()["sms_source"] == "checkout page"
        assert got.json()["whatsapp_status"] == "unknown"

    async def test_create_with_consent_writes_event(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(
            client, tenant, sms_status="opted_in", consent_source="shop", consent_wording="Yes"
        )
        events = await client.get(f"/v1/contacts/{contact['id']}/consent", headers=tenant.headers)
        [event] = events.json()
        assert (event["channel"], event["status"], event["method"]) == ("sms", "opted_in", "api")
        assert event["source"] == "shop"

    async def test_opt_out_is_never_downgraded(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant, sms_status="opted_out")
        url = f"/v1/contacts/{contact['id']}"
        for status in ("opted_in", "implied", "unknown"):
            patched = await client.patch(url, json={"sms_status": status}, headers=tenant.headers)
            assert patched.status_code == 409
            assert "resubscribe" in patched.json()["detail"]
            direct = await consent(client, tenant, contact["id"], channel="sms", status=status)
            assert direct.status_code == 409
        duplicate = await client.post(
            "/v1/contacts",
            json={"phone": contact["phone_e164"], "sms_status": "opted_in"},
            headers=tenant.headers,
        )
        assert duplicate.status_code == 409
        assert "opted out of sms" in duplicate.json()["detail"]
        got = await client.get(url, headers=tenant.headers)
        assert got.json()["sms_status"] == "opted_out"
        events = await client.get(f"{url}/consent", headers=tenant.headers)
        assert [e["status"] for e in events.json()] == ["opted_out"]

    async def test_other_channel_is_independent(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant, sms_status="opted_out")
        response = await client.patch(
            f"/v1/contacts/{contact['id']}",
            json={"whatsapp_status": "opted_in", "sms_status": "opted_out"},
            headers=tenant.headers,
        )
        assert response.status_code == 200
        assert response.json()["whatsapp_status"] == "opted_in"
        assert response.json()["sms_status"] == "opted_out"

    async def test_resubscribe_is_recorded(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant, whatsapp_status="opted_out")
        no_source = await consent(
            client, tenant, contact["id"], channel="whatsapp", status="opted_in", resubscribe=True
        )
        assert no_source.status_code == 422
        assert "source" in no_source.json()["detail"]
        response = await consent(
            client,
            tenant,
            contact["id"],
            channel="whatsapp",
            status="opted_in",
            method="keyword",
            source="replied START",
            resubscribe=True,
        )
        assert response.status_code == 201, response.text
        assert response.json()["details"] == {"resubscribe": True}
        events = await client.get(f"/v1/contacts/{contact['id']}/consent", headers=tenant.headers)
        newest, oldest = events.json()
        assert (newest["status"], newest["previous_status"]) == ("opted_in", "opted_out")
        assert newest["method"] == "keyword"
        assert oldest["status"] == "opted_out"

    async def test_erasure_method_is_reserved(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant)
        response = await consent(
            client, tenant, contact["id"], channel="sms", status="opted_out", method="erasure"
        )
        assert response.status_code == 422
