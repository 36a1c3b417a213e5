"""The consent rule: opted-out contacts never silently return; every change leaves proof."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import String, column, select, values

from herald.contact.consent import (
    RESUBSCRIPTIONS,
    ConsentLocked,
    check_transition,
    guarded_status,
    guarded_status_sql,
    is_allowed,
    refused_sql,
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

    @pytest.mark.parametrize(
        ("current", "new"),
        [
            (current, new)
            for current in [None, S.unknown, S.implied, S.opted_in, S.opted_out]
            for new in S
            if current is not S.opted_out or new is S.opted_out
        ],
    )
    def test_other_changes_are_free(
        self, current: ConsentStatus | None, new: ConsentStatus
    ) -> None:
        """Every pair but those leaving opted_out (the test above): none passes vacuously."""
        assert is_allowed(current, new, resubscribe=False)

    def test_the_table_is_the_rule(self) -> None:
        needs = {
            (old, new) for old in S for new in S if not is_allowed(old, new, resubscribe=False)
        }
        assert needs == RESUBSCRIPTIONS
        assert all(is_allowed(old, new, resubscribe=True) for old in S for new in S)

    async def test_sql_and_python_agree_on_every_transition(self, db: Database) -> None:
        """Both SQL forms evaluated by PostgreSQL over every (stored, incoming) pair, with
        ``None`` for an incoming NULL, against ``guarded_status`` and ``is_allowed``."""
        pairs = [(old, new) for old in S for new in [*S, None]]
        rows = values(
            column("current", String),
            column("incoming", String),
            name="pairs",
        ).data([(old.value, new.value if new else None) for old, new in pairs])
        stmt = select(
            rows.c.current,
            rows.c.incoming,
            guarded_status_sql(rows.c.current, rows.c.incoming),
            refused_sql(rows.c.current, rows.c.incoming),
        )
        async with db.system_session() as session:
            found = {(r[0], r[1]): (r[2], r[3]) for r in await session.execute(stmt)}
        expected = {
            (old.value, new.value if new else None): (
                guarded_status(old, new),
                new is not None and not is_allowed(old, new, resubscribe=False),
            )
            for old, new in pairs
        }
        assert found == expected


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


class TestPatchLeavesProof:
    """A consent change made through ``PATCH /v1/contacts/{id}`` is one event per channel that
    changed, with who, how and where from; other edits leave none."""

    async def test_each_changed_channel_has_its_event(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant)
        url = f"/v1/contacts/{contact['id']}"
        patched = await client.patch(
            url,
            json={
                "sms_status": "opted_in",
                "whatsapp_status": "opted_out",
                "consent_source": "checkout form",
                "consent_wording": "Send me offers",
            },
            headers=tenant.headers,
        )
        assert patched.status_code == 200, patched.text
        events = (await client.get(f"{url}/consent", headers=tenant.headers)).json()
        found = {(e["channel"], e["status"], e["previous_status"], e["method"]) for e in events}
        assert found == {
            ("sms", "opted_in", "unknown", "api"),
            ("whatsapp", "opted_out", "unknown", "api"),
        }
        assert {e["source"] for e in events} == {"checkout form"}
        assert all(e["actor"].startswith("api_key:") for e in events)

    async def test_other_edits_and_same_status_leave_none(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        contact = await create_contact(client, tenant, sms_status="opted_in", consent_source="x")
        url = f"/v1/contacts/{contact['id']}"
        for body in ({"first_name": "Ann"}, {"sms_status": "opted_in"}):
            assert (await client.patch(url, json=body, headers=tenant.headers)).status_code == 200
        events = (await client.get(f"{url}/consent", headers=tenant.headers)).json()
        assert len(events) == 1
