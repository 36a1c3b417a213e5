"""Contacts, channels and campaigns for the campaign tests."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import aiohttp
import httpx
from sqlalchemy import func, select, text, update

from herald.campaign.models import Campaign
from herald.contact.models import ConsentStatus, Contact
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.kit.models import utcnow
from herald.message.dispatch import DispatchPolicy, dispatch_once
from herald.message.models import Message, MessageEvent, MessageStatus
from tests.conftest import TenantFixture

_numbers = itertools.count(1)
FAST = DispatchPolicy(backoff_base=0.01, backoff_cap=0.05, probe_interval=0.05, idle_seconds=0.01)
ALL_DAY = {"start": "00:00", "end": "23:59"}


def gb_phone() -> str:
    """A valid UK mobile number no other campaign test uses (no legal hours table: the
    tenant's window alone applies)."""
    return f"+447911{next(_numbers) % 1000000:06d}"


def noon_zone(now: datetime | None = None) -> str:
    """A fixed-offset zone where it is about midday now: inside every quiet-hours window."""
    hour = (now or datetime.now(UTC)).hour
    offset = 12 - hour
    if offset < -12:
        offset += 24
    if offset > 14:
        offset -= 24
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def contact(
    db: Database,
    tenant_id: UUID,
    phone: str | None = None,
    *,
    sms_status: ConsentStatus = ConsentStatus.opted_in,
    **fields: Any,
) -> UUID:
    async with db.tenant_session(tenant_id) as session:
        row = Contact(
            tenant_id=tenant_id,
            phone_e164=phone or gb_phone(),
            source="test",
            sms_status=sms_status,
            **fields,
        )
        session.add(row)
        await session.flush()
        return row.id


async def many_contacts(db: Database, tenant_id: UUID, count: int, zone: str) -> None:
    """``count`` opted-in contacts in one statement (numbers +4477100xxxxx)."""
    async with db.tenant_session(tenant_id) as session:
        await session.execute(
            text(
                "INSERT INTO contacts (id, tenant_id, phone_e164, source, sms_status, timezone, "
                "created_at, updated_at) "
                "SELECT gen_random_uuid(), :tenant_id, '+447710' || lpad(i::text, 6, '0'), "
                "'test', 'opted_in', :zone, now(), now() FROM generate_series(1, :count) i"
            ),
            {"tenant_id": tenant_id, "count": count, "zone": zone},
        )


async def create(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    channel_id: UUID,
    expect: int = 201,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "Spring sale",
        "channel_id": str(channel_id),
        "body": "Spring sale at {{ business_name }}: 20% off. Reply STOP to opt out",
        "audience": {"all": True},
        "quiet_hours": ALL_DAY,
    }
    payload.update(body)
    answer = await client.post("/v1/campaigns", json=payload, headers=headers or tenant.headers)
    assert answer.status_code == expect, answer.text
    data: dict[str, Any] = answer.json()
    return data


async def act(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    campaign_id: str,
    action: str,
    expect: int = 200,
    **body: Any,
) -> dict[str, Any]:
    answer = await client.post(
        f"/v1/campaigns/{campaign_id}/{action}", json=body or None, headers=tenant.headers
    )
    assert answer.status_code == expect, answer.text
    data: dict[str, Any] = answer.json()
    return data


async def status_counts(db: Database, campaign_id: str) -> dict[str, int]:
    async with db.system_session() as session:
        rows = await session.execute(
            select(Message.status, func.count())
            .where(Message.campaign_id == UUID(campaign_id))
            .group_by(Message.status)
        )
        return {str(status): int(n) for status, n in rows}


async def run_dispatch(
    db: Database, http: aiohttp.ClientSession, campaign_id: str, rounds: int = 40
) -> None:
    """Dispatch batches until the campaign has nothing queued or sending (or rounds run out)."""
    for _ in range(rounds):
        await dispatch_once(db, http, FAST)
        counts = await status_counts(db, campaign_id)
        if not counts.get(MessageStatus.queued.value) and not counts.get("sending"):
            return
        await asyncio.sleep(0.06)


async def read_campaign_row(db: Database, campaign_id: str) -> Campaign:
    async with db.system_session() as session:
        found = await session.get(Campaign, UUID(campaign_id))
        assert found is not None
        return found


async def set_columns(db: Database, campaign_id: str, **values: Any) -> None:
    async with db.system_session() as session:
        await session.execute(
            update(Campaign).where(Campaign.id == UUID(campaign_id)).values(**values)
        )


async def rounds_of(db: Database, campaign_id: str) -> dict[int, int]:
    async with db.system_session() as session:
        rows = await session.execute(
            select(Message.campaign_round, func.count())
            .where(Message.campaign_id == UUID(campaign_id))
            .group_by(Message.campaign_round)
        )
        return {int(r): int(n) for r, n in rows}


async def messages_of(db: Database, campaign_id: str) -> dict[UUID, tuple[UUID, int]]:
    """Contact → (variant, round) of the campaign's messages."""
    async with db.system_session() as session:
        rows = await session.execute(
            select(Message.contact_id, Message.variant_id, Message.campaign_round).where(
                Message.campaign_id == UUID(campaign_id)
            )
        )
        return {c: (v, r) for c, v, r in rows}


async def add_clicks(
    db: Database,
    tenant_id: UUID,
    campaign_id: str,
    messages: dict[UUID, tuple[UUID, int]],
    variant: UUID,
) -> None:
    """Every recipient of ``variant`` clicked (twice: each person counts once)."""
    now = utcnow()
    async with db.tenant_session(tenant_id) as session:
        session.add_all(
            MessageEvent(
                id=new_id(),
                tenant_id=tenant_id,
                type="clicked",
                contact_id=contact_id,
                campaign_id=UUID(campaign_id),
                data={},
                occurred_at=now,
            )
            for contact_id, (v, _) in messages.items()
            if v == variant
            for _ in range(2)
        )
