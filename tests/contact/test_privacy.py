"""Export everything held on a person; erase them and keep them unreachable."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from herald.audit.models import AuditEntry
from herald.contact.eligibility import Purpose, eligible
from herald.contact.models import ChannelKind, Contact
from herald.kit.context import Role
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.contact.helpers import create_contact


async def test_export(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    contact = await create_contact(
        client, tenant, first_name="Eve", sms_status="opted_in", consent_source="form"
    )
    await client.post("/v1/dnc", json={"phone": contact["phone_e164"]}, headers=tenant.headers)
    viewer = await tenant.key_for(Role.viewer)
    response = await client.get(f"/v1/contacts/{contact['id']}/export", headers=viewer)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    body = response.json()
    assert body["contact"]["first_name"] == "Eve"
    assert body["contact"]["do_not_contact"] is True
    assert [e["status"] for e in body["consent_events"]] == ["opted_in"]
    assert body["do_not_contact"]["phone_e164"] == contact["phone_e164"]


async def test_erase_keeps_an_anonymous_row(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    contact = await create_contact(
        client,
        tenant,
        phone="+14155552671",
        email="erase.me@example.com",
        first_name="Erin",
        last_name="Gone",
        company="Acme",
        birth_date="1980-01-01",
        tags=["vip"],
        custom_fields={"size": "M"},
        sms_status="opted_in",
    )
    url = f"/v1/contacts/{contact['id']}"
    manager = await tenant.key_for(Role.manager)
    refused = await client.delete(f"{url}?erase=true", headers=manager)
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    response = await client.delete(f"{url}?erase=true", headers=tenant.headers)
    assert response.status_code == 204

    got = (await client.get(url, headers=tenant.headers)).json()
    assert got["erased_at"] is not None
    for field in ("phone_e164", "email", "first_name", "last_name", "company", "birth_date"):
        assert got[field] is None, field
    assert (got["tags"], got["custom_fields"]) == ([], {})
    assert (got["sms_status"], got["whatsapp_status"]) == ("opted_out", "opted_out")
    events = (await client.get(f"{url}/consent", headers=tenant.headers)).json()
    assert {(e["method"], e["status"]) for e in events} == {("erasure", "opted_out")}
    assert all(e["source"] is None and e["wording"] is None for e in events)
    again = await client.delete(f"{url}?erase=true", headers=tenant.headers)
    assert again.status_code == 410
    patched = await client.patch(url, json={"first_name": "Back"}, headers=tenant.headers)
    assert patched.status_code == 410

    async with db.tenant_session(tenant.id) as session:
        entries = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.tenant_id == tenant.id,
                    AuditEntry.resource_id == contact["id"],
                )
            )
        ).all()
    assert {"contact.created", "contact.erased"} <= {e.action for e in entries}
    # The log is append-only, so personal data must never have been copied into it.
    assert not any("Erin" in str(e.changes) or "2671" in str(e.changes) for e in entries)


async def test_erased_number_stays_blocked(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    first = await create_contact(client, tenant, phone="+14155552671")
    await client.delete(f"/v1/contacts/{first['id']}?erase=true", headers=tenant.headers)
    again = await create_contact(client, tenant, phone="(415) 555-2671", sms_status="opted_in")
    assert again["do_not_contact"] is True
    async with db.tenant_session(tenant.id) as session:
        reachable = set(
            (
                await session.scalars(
                    select(Contact.id).where(
                        *eligible(tenant.id, ChannelKind.sms, Purpose.transactional)
                    )
                )
            ).all()
        )
    assert reachable.isdisjoint({again["id"], first["id"]})


async def test_bulk_tagging_skips_erased_contacts(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    contact = await create_contact(client, tenant)
    await client.delete(f"/v1/contacts/{contact['id']}?erase=true", headers=tenant.headers)
    response = await client.post(
        "/v1/contacts/bulk/tags", json={"add": ["vip"], "all": True}, headers=tenant.headers
    )
    assert response.json() == {"matched": 0, "changed": 0}
    async with db.tenant_session(tenant.id) as session:
        erased = await session.get(Contact, contact["id"])
    assert erased is not None and erased.tags == []
