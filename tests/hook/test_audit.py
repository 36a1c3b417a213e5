"""What a provider's callback changes is in the tenant's audit log, as Herald's own work (no
user, no key), like what an API request changes; another tenant's log stays empty."""

from __future__ import annotations

from uuid import UUID

import httpx
from sqlalchemy import select

from herald.audit.models import AuditEntry
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.hook.helpers import make_channel, process_all, twilio_inbound

SENDER = "+14155550188"


async def _entries(db: Database, tenant_id: UUID) -> list[AuditEntry]:
    async with db.system_session() as session:
        found = await session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant_id))
        return list(found)


async def test_a_stop_reply_is_audited_as_herald_changing_the_contacts_consent(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")
    await make_channel(db, other_tenant.id, "twilio")
    before = {e.id for e in await _entries(db, tenant.id)}
    theirs = {e.id for e in await _entries(db, other_tenant.id)}
    callback = twilio_inbound(channel.id, "SM-stop-audit", "STOP", SENDER)

    answer = await client.post(callback.path, content=callback.body, headers=callback.headers)
    assert answer.status_code == 200, answer.text
    await process_all(db)

    added = [e for e in await _entries(db, tenant.id) if e.id not in before]
    [consent] = [e for e in added if e.action == "contact.updated" and "sms_status" in e.changes]
    assert consent.changes["sms_status"]["new"] == "opted_out"
    assert (consent.actor_user_id, consent.actor_api_key_id) == (None, None)
    assert SENDER not in str(consent.changes)  # the number is personal data, never copied
    assert {e.id for e in await _entries(db, other_tenant.id)} == theirs
