"""Paging the inbox list and a thread: every row once across pages, ties on the time included,
another tenant's rows never; and each page starts where the cursor points, an index range scan
that does not read the rows of the pages before it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import event, text

from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.inbox.models import Conversation
from herald.inbox.schemas import ConversationFilters
from herald.inbox.service import list_conversations, thread
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.kit.pagination import PageParams
from tests.conftest import TenantFixture

CONVERSATIONS = 30
"""Two thirds of them share one ``last_message_at``: pages must break the tie by id."""

THREAD = 25

_SEED = text(
    """
    WITH made AS (
        INSERT INTO contacts (id, tenant_id, phone_e164, source)
        SELECT gen_random_uuid(), :tenant_id, '+1415666' || lpad(i::text, 4, '0'), 'sms'
        FROM generate_series(:first, :first + :count - 1) AS i
        RETURNING id
    )
    INSERT INTO conversations (id, tenant_id, contact_id, channel_id, status, unread_count,
                               last_message_at, last_direction)
    SELECT gen_random_uuid(), :tenant_id, made.id, :channel_id, 'open', 1,
           CASE WHEN row_number() OVER () % 3 = 0 THEN now() - interval '1 hour'
                ELSE timestamptz '2026-11-30 12:00:00+00' END,
           'inbound'
    FROM made
    """
)

_THREAD = text(
    """
    INSERT INTO messages (id, tenant_id, channel_id, contact_id, direction, status, body,
                          queued_at, next_attempt_at, created_at, updated_at)
    SELECT gen_random_uuid(), :tenant_id, :channel_id, :contact_id, 'inbound', 'received',
           'Message ' || i, t, t, t, t
    FROM generate_series(1, :count) AS i
         CROSS JOIN LATERAL (SELECT timestamptz '2026-11-30 12:00:00+00'
                                    + make_interval(mins => i / 2) AS t) AS at(t)
    """
)
"""Two messages a minute: every time is shared by two of them."""


async def _tenant_with_conversations(
    db: Database, tenant_id: UUID, first: int = 1, count: int = CONVERSATIONS
) -> Channel:
    """A channel with ``count`` conversations, their numbers counted from ``first``."""
    channel = Channel(
        id=new_id(),
        tenant_id=tenant_id,
        kind=ChannelKind.sms,
        provider="simulator",
        name=f"paging {first}",
        sender="+12025550142",
        config={},
    )
    async with db.system_session() as session:
        session.add(channel)
        await session.flush()
        await session.execute(
            _SEED,
            {
                "tenant_id": tenant_id,
                "channel_id": channel.id,
                "first": first,
                "count": count,
            },
        )
        await session.execute(text("ANALYZE conversations"))
    return channel


async def _busy_conversation(db: Database, tenant_id: UUID, channel: Channel) -> Conversation:
    async with db.system_session() as session:
        busy = await session.scalar(
            text("SELECT id FROM conversations WHERE tenant_id = :t AND channel_id = :c LIMIT 1"),
            {"t": tenant_id, "c": channel.id},
        )
        conversation = await session.get_one(Conversation, busy)
        await session.execute(
            _THREAD,
            {
                "tenant_id": tenant_id,
                "channel_id": channel.id,
                "contact_id": conversation.contact_id,
                "count": THREAD,
            },
        )
    return conversation


async def _all_pages(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], limit: int
) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        found = await client.get(path, params=params, headers=headers)
        assert found.status_code == 200, found.text
        seen.extend(item["id"] for item in found.json()["items"])
        cursor = found.json()["next_cursor"]
        if cursor is None:
            return seen


async def test_pages_hold_every_conversation_once_ties_included(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    await _tenant_with_conversations(db, tenant.id)
    await _tenant_with_conversations(db, other_tenant.id)
    viewer = await tenant.key_for(Role.viewer)

    seen = await _all_pages(client, "/v1/conversations", viewer, limit=7)

    async with db.system_session() as session:
        expected = await session.scalars(
            text(
                "SELECT id::text FROM conversations WHERE tenant_id = :t "
                "ORDER BY last_message_at DESC, id DESC"
            ),
            {"t": tenant.id},
        )
        assert seen == list(expected)
    assert len(seen) == CONVERSATIONS


async def test_thread_pages_hold_every_message_once_ties_included(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    channel = await _tenant_with_conversations(db, tenant.id)
    conversation = await _busy_conversation(db, tenant.id, channel)
    viewer = await tenant.key_for(Role.viewer)
    path = f"/v1/conversations/{conversation.id}/messages"

    seen = await _all_pages(client, path, viewer, limit=4)

    async with db.system_session() as session:
        expected = await session.scalars(
            text(
                "SELECT id::text FROM messages WHERE tenant_id = :t AND contact_id = :c "
                "ORDER BY created_at DESC, id DESC"
            ),
            {"t": tenant.id, "c": conversation.contact_id},
        )
        assert seen == list(expected)
    assert len(seen) == THREAD
    elsewhere = await client.get(path, headers=other_tenant.headers)
    assert elsewhere.status_code == 404


@contextmanager
def _statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SELECTs run on ``db`` meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def _index_conditions(db: Database, tenant_id: UUID, statement: str, params: Any) -> str:
    """The plan's index conditions, index scans preferred whatever the table's size."""
    async with db.tenant_session(tenant_id) as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        await session.execute(text("SET LOCAL enable_bitmapscan = off"))
        await session.execute(text("SET LOCAL enable_sort = off"))
        connection = await (await session.connection()).get_raw_connection()
        cursor = connection.driver_connection.cursor()  # type: ignore[union-attr]
        await cursor.execute("EXPLAIN " + statement, params)
        plan = [row[0] for row in await cursor.fetchall()]
    return "\n".join(line for line in plan if "Index Cond" in line)


async def test_a_next_page_starts_at_the_cursor_in_the_index(
    db: Database, tenant: TenantFixture
) -> None:
    channel = await _tenant_with_conversations(db, tenant.id)
    await _tenant_with_conversations(db, tenant.id, first=CONVERSATIONS + 1, count=300)
    conversation = await _busy_conversation(db, tenant.id, channel)
    filters = {"all": ConversationFilters(), "channel": ConversationFilters(channel_id=channel.id)}
    for name, chosen in filters.items():
        async with db.tenant_session(tenant.id) as session:
            first = await list_conversations(session, tenant.id, chosen, PageParams(limit=5))
            with _statements(db) as seen:
                await list_conversations(
                    session, tenant.id, chosen, PageParams(limit=5, cursor=first.next_cursor)
                )
        conditions = await _index_conditions(db, tenant.id, *seen[0])
        assert "last_message_at" in conditions, (name, conditions)
        if name == "channel":
            assert "channel_id" in conditions, conditions

    async with db.tenant_session(tenant.id) as session:
        newest = await thread(session, tenant.id, conversation.id, PageParams(limit=5))
        with _statements(db) as seen:
            await thread(
                session, tenant.id, conversation.id, PageParams(limit=5, cursor=newest.next_cursor)
            )
    [(statement, params)] = [s for s in seen if "FROM messages" in s[0]]
    assert "created_at" in await _index_conditions(db, tenant.id, statement, params)
