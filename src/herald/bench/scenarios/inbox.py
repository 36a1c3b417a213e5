"""Scenario ``inbox``: the first page of a busy tenant's inbox, over ``size`` messages.

The tenant gets ``size`` messages (half inbound) with ``size / 20`` contacts, one conversation
each (a third unread, a sixth closed, some snoozed, a quarter assigned, a tenth tagged); every
twentieth message goes to one contact, whose thread is the busy one. Seeded once per bench
database with set-based ``INSERT … SELECT`` and ``VACUUM ANALYZE``.

Timed: ``list_conversations`` — the service behind ``GET /v1/conversations`` — for the open,
unread conversations, first page of 50 and the page after it, in a tenant-scoped transaction
(row-level security on), previews included. Baseline: the same rows from the plainest
hand-written ``SELECT … ORDER BY … LIMIT`` over ``conversations``, run as the owner. Listing
never reads an aggregate of ``messages``, so its time should not grow with them.

Also reported (``extra``, medians in ms): each filter's first and next page (``list_ms``), and
the busy thread's newest page, the page after it and a page half way down (``thread_ms``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from sqlalchemy import text

from herald.bench.types import BenchContext, Measurement
from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.inbox.models import ConversationStatus
from herald.inbox.schemas import ConversationFilters
from herald.inbox.service import list_conversations, thread
from herald.kit.ids import new_id
from herald.kit.pagination import PageParams, encode_cursor
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate

TENANT_NAME = "Inbox Bench"
PAGE = 50
REPEATS = 7
MESSAGES_PER_CONTACT = 20
BUSY_EVERY = 20
"""Every twentieth message goes to one contact: a thread of ``size / 20`` messages."""

SEED = text(
    """
    WITH contacts_made AS (
        INSERT INTO contacts (id, tenant_id, phone_e164, source)
        SELECT gen_random_uuid(), :tenant_id, '+1' || (3000000000 + i)::text, 'sms'
        FROM generate_series(1, :contacts) AS i
        RETURNING id
    ), numbered AS (
        SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM contacts_made
    )
    INSERT INTO messages (id, tenant_id, channel_id, contact_id, direction, status, body,
                          queued_at, next_attempt_at, received_at, created_at, updated_at)
    SELECT gen_random_uuid(), :tenant_id, :channel_id, n.id,
           CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
           CASE WHEN i % 2 = 0 THEN 'received' ELSE 'delivered' END,
           'Message number ' || i, t, t, CASE WHEN i % 2 = 0 THEN t END, t, t
    FROM generate_series(1, :messages) AS i
         JOIN numbered n ON n.k = CASE WHEN i % :busy_every = 0 THEN 0 ELSE i % :contacts END
         CROSS JOIN LATERAL (SELECT now() - make_interval(secs => :messages - i) AS t) AS at(t)
    """
)

CONVERSATIONS = text(
    """
    INSERT INTO conversations (id, tenant_id, contact_id, channel_id, status, snoozed_until,
                               assigned_to, unread_count, tags, last_message_id,
                               last_message_at, last_direction)
    SELECT gen_random_uuid(), :tenant_id, m.contact_id, :channel_id,
           CASE WHEN h % 6 = 0 THEN 'closed' WHEN h % 7 = 0 THEN 'snoozed' ELSE 'open' END,
           CASE WHEN h % 7 = 0 THEN now() + interval '1 day' END,
           CASE WHEN h % 4 = 0 THEN CAST(:agent_id AS uuid) END,
           CASE WHEN h % 3 = 0 THEN 1 + h % 5 ELSE 0 END,
           CASE WHEN h % 10 = 0 THEN ARRAY['vip'] ELSE ARRAY[]::text[] END,
           m.id, m.created_at, m.direction
    FROM (SELECT DISTINCT ON (contact_id) contact_id, id, created_at, direction
          FROM messages WHERE tenant_id = :tenant_id
          ORDER BY contact_id, created_at DESC) AS m
         CROSS JOIN LATERAL (SELECT abs(hashtext(m.contact_id::text)) AS h) AS hashed
    """
)

BASELINE = text(
    """
    SELECT c.*, m.body FROM conversations c LEFT JOIN messages m ON m.id = c.last_message_id
    WHERE c.tenant_id = :tenant_id AND c.unread_count > 0
      AND (c.status = 'open' OR (c.status = 'snoozed' AND c.snoozed_until <= now()))
    ORDER BY c.last_message_at DESC, c.id DESC
    LIMIT :limit OFFSET :offset
    """
)
"""The two pages written by hand (an offset is fine this close to the top)."""

AGENT_AND_CHANNEL = text(
    """
    SELECT (SELECT assigned_to FROM conversations
            WHERE tenant_id = :tenant_id AND assigned_to IS NOT NULL LIMIT 1),
           (SELECT id FROM channels WHERE tenant_id = :tenant_id LIMIT 1)
    """
)


async def seed(ctx: BenchContext, size: int) -> UUID:
    """The tenant, its channel, contacts, messages and conversations (once per database)."""
    async with ctx.db.system_session() as session:
        existing = await session.scalar(
            text("SELECT id FROM tenants WHERE name = :name"), {"name": TENANT_NAME}
        )
        if existing is not None:
            return UUID(str(existing))
        done = await onboard_tenant(session, TenantCreate(name=TENANT_NAME), "inbox@bench.test")
        tenant_id = done.tenant.id
        channel = Channel(
            id=new_id(),
            tenant_id=tenant_id,
            kind=ChannelKind.sms,
            provider="simulator",
            name="inbox bench",
            sender="+12025550199",
            config={},
        )
        session.add(channel)
        await session.flush()
        params = {
            "tenant_id": tenant_id,
            "channel_id": channel.id,
            "messages": size,
            "contacts": max(size // MESSAGES_PER_CONTACT, 1),
            "busy_every": BUSY_EVERY,
            "agent_id": done.owner.id,
        }
        await session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        await session.execute(SEED, params)
        await session.execute(CONVERSATIONS, params)
    async with ctx.db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("contacts", "messages", "conversations"):
            await conn.execute(text(f"VACUUM ANALYZE {table}"))
    return tenant_id


BUSY_THREAD = text(
    """
    SELECT c.id, c.contact_id FROM conversations c
    WHERE c.tenant_id = :tenant_id AND c.contact_id = (
        SELECT contact_id FROM messages WHERE tenant_id = :tenant_id
        GROUP BY contact_id ORDER BY count(*) DESC LIMIT 1)
    """
)

MIDDLE_OF_THREAD = text(
    """
    SELECT created_at, id FROM messages
    WHERE tenant_id = :tenant_id AND contact_id = :contact_id
    ORDER BY created_at DESC, id DESC
    OFFSET (SELECT count(*) / 2 FROM messages
            WHERE tenant_id = :tenant_id AND contact_id = :contact_id)
    LIMIT 1
    """
)
"""Where the older thread page starts: half way down the busy thread."""


def _filters(agent_id: UUID, channel_id: UUID) -> dict[str, ConversationFilters]:
    """Each filter the list offers, alone, and the inbox's default view."""
    return {
        "open_unread": ConversationFilters(status=ConversationStatus.open, unread=True),
        "none": ConversationFilters(),
        "open": ConversationFilters(status=ConversationStatus.open),
        "snoozed": ConversationFilters(status=ConversationStatus.snoozed),
        "closed": ConversationFilters(status=ConversationStatus.closed),
        "unread": ConversationFilters(unread=True),
        "read": ConversationFilters(unread=False),
        "assigned_to": ConversationFilters(assigned_to=agent_id),
        "unassigned": ConversationFilters(unassigned=True),
        "tag": ConversationFilters(tag="vip"),
        "channel": ConversationFilters(channel_id=channel_id),
    }


async def _median_seconds(call: Callable[[], Awaitable[list[str]]]) -> tuple[float, list[str]]:
    result = await call()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def _median_ms(call: Callable[[], Awaitable[object]]) -> float:
    await call()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


async def _list_pages_ms(
    ctx: BenchContext, tenant_id: UUID, filters: ConversationFilters
) -> dict[str, float]:
    """The first page of a filtered list and the page after it, each timed on its own."""

    async def page(cursor: str | None) -> str | None:
        async with ctx.db.tenant_session(tenant_id) as session:
            found = await list_conversations(
                session, tenant_id, filters, PageParams(limit=PAGE, cursor=cursor)
            )
        return found.next_cursor

    second = await page(None)
    return {
        "first": await _median_ms(lambda: page(None)),
        "next": await _median_ms(lambda: page(second)),
    }


async def _thread_pages_ms(ctx: BenchContext, tenant_id: UUID) -> dict[str, float | int]:
    """The busy conversation's newest page, the page after it and a page half way down."""
    async with ctx.db.system_session() as session:
        busy = (await session.execute(BUSY_THREAD, {"tenant_id": tenant_id})).one()
        middle = (
            await session.execute(
                MIDDLE_OF_THREAD, {"tenant_id": tenant_id, "contact_id": busy.contact_id}
            )
        ).one()

    async def page(cursor: str | None) -> str | None:
        async with ctx.db.tenant_session(tenant_id) as session:
            found = await thread(session, tenant_id, busy.id, PageParams(limit=PAGE, cursor=cursor))
        if len(found.items) != PAGE:
            raise RuntimeError("the busy thread is shorter than the pages read from it")
        return found.next_cursor

    second = await page(None)
    older = encode_cursor(middle.created_at, middle.id)
    return {
        "first": await _median_ms(lambda: page(None)),
        "next": await _median_ms(lambda: page(second)),
        "older": await _median_ms(lambda: page(older)),
    }


async def run(ctx: BenchContext, size: int) -> Measurement:
    tenant_id = await seed(ctx, size)
    filters = ConversationFilters(status=ConversationStatus.open, unread=True)

    async def two_pages() -> list[str]:
        shown: list[str] = []
        cursor = None
        for _ in range(2):
            async with ctx.db.tenant_session(tenant_id) as session:
                page = await list_conversations(
                    session, tenant_id, filters, PageParams(limit=PAGE, cursor=cursor)
                )
            shown.extend(str(item.id) for item in page.items)
            cursor = page.next_cursor
        return shown

    async def baseline_pages() -> list[str]:
        shown: list[str] = []
        for offset in (0, PAGE):
            async with ctx.db.system_session() as session:
                rows = await session.execute(
                    BASELINE, {"tenant_id": tenant_id, "limit": PAGE, "offset": offset}
                )
                shown.extend(str(row.id) for row in rows)
        return shown

    seconds, listed = await _median_seconds(two_pages)
    baseline_seconds, expected = await _median_seconds(baseline_pages)
    if listed != expected:
        raise RuntimeError("the inbox's pages differ from the hand-written query's")
    async with ctx.db.system_session() as session:
        agent_id, channel_id = (
            await session.execute(AGENT_AND_CHANNEL, {"tenant_id": tenant_id})
        ).one()
    lists = {
        name: await _list_pages_ms(ctx, tenant_id, chosen)
        for name, chosen in _filters(agent_id, channel_id).items()
    }
    extra = {
        "conversations_listed": len(listed),
        "two_pages_ms": round(seconds * 1000, 2),
        "baseline_ms": round(baseline_seconds * 1000, 2),
        "list_ms": lists,
        "thread_ms": await _thread_pages_ms(ctx, tenant_id),
        "repeats": REPEATS,
    }
    return Measurement(size, seconds, baseline_seconds, unit="messages", extra=extra)
