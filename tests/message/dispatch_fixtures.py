"""Helpers of the dispatch tests: a simulator channel, contacts and queued messages, made
directly in the database (the dispatch engine reads rows, whoever wrote them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.message.models import Message, MessageEvent
from tests.conftest import TenantFixture
from tests.sim.server import SimServer


async def make_channel(
    db: Database,
    app: FastAPI,
    tenant_id: UUID,
    sim: SimServer,
    *,
    sender: str | None = None,
    **fields: Any,
) -> Channel:
    """A simulator SMS channel of ``tenant_id``; ``app`` makes sure the keyring that encrypts
    its config is the test run's (the one worker subprocesses load from the data dir)."""
    assert app is not None
    channel = Channel(
        id=new_id(),
        tenant_id=tenant_id,
        kind=ChannelKind.sms,
        provider="simulator",
        name=f"sim {new_id().hex[-8:]}",
        sender=sender or f"+1555{new_id().int % 10_000_000:07d}",
        config={
            "api_base_url": sim.url,
            "api_key": "test-key",
            "signing_secret": "test-signing-secret",
            "timeout_seconds": 5,
        },
        **fields,
    )
    async with db.tenant_session(tenant_id) as session:
        session.add(channel)
    return channel


async def make_contact(client: httpx.AsyncClient, tenant: TenantFixture, phone: str) -> UUID:
    answer = await client.post("/v1/contacts", json={"phone": phone}, headers=tenant.headers)
    assert answer.status_code == 201, answer.text
    return UUID(answer.json()["id"])


async def queue(
    db: Database,
    channel: Channel,
    count: int,
    *,
    contact_id: UUID | None = None,
    to: str = "+14155550100",
) -> list[UUID]:
    """``count`` due messages on ``channel`` (one per recipient, numbered from ``to``)."""
    base = int(to[1:])
    messages = [
        Message(
            id=new_id(),
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            contact_id=contact_id,
            to_address=f"+{base + i}",
            from_address=channel.sender,
            body=f"Hello {i}",
        )
        for i in range(count)
    ]
    async with db.tenant_session(channel.tenant_id) as session:
        session.add_all(messages)
    return [m.id for m in messages]


async def messages_of(db: Database, ids: Sequence[UUID]) -> list[Message]:
    async with db.system_session() as session:
        found = await session.scalars(select(Message).where(Message.id.in_(ids)))
        by_id = {m.id: m for m in found}
    return [by_id[i] for i in ids]


async def events_of(db: Database, ids: Sequence[UUID]) -> dict[str, int]:
    async with db.system_session() as session:
        rows = await session.execute(
            select(MessageEvent.type, func.count())
            .where(MessageEvent.message_id.in_(ids))
            .group_by(MessageEvent.type)
        )
        return {str(kind): int(n) for kind, n in rows}


async def reload(db: Database, channel: Channel) -> Channel:
    async with db.system_session() as session:
        found = await session.get(Channel, channel.id)
        assert found is not None
        return found
