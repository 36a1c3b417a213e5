"""All SQL of the webhook domain. The accept path is one INSERT per group of concurrent
callbacks (``intake``; the channel is read once per few seconds, see ``service``); it and the
processor run as the owner — the processor because a batch spans tenants — and every row
written takes its tenant from the channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Row, bindparam, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from herald.channel.models import Channel
from herald.hook.models import WebhookEvent
from herald.kit.ids import new_id
from herald.kit.repository import Repository
from herald.whatsapp.models import WhatsAppTemplate


@dataclass(frozen=True, slots=True)
class HookChannel:
    """What a callback needs of its channel: whose it is, its provider and its secrets."""

    id: UUID
    tenant_id: UUID
    provider: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Stored:
    """A claimed raw event."""

    id: UUID
    tenant_id: UUID
    channel_id: UUID
    provider: str
    content_type: str
    payload: bytes
    received_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class Settled:
    """What became of one claimed event: done (``processed``) or due again at ``retry_at``."""

    id: UUID
    processed: bool
    error: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChannelStats:
    channel_id: UUID
    provider: str
    received: int
    pending: int
    failed: int
    rejected: int
    last_received_at: datetime | None
    last_rejected_at: datetime | None


BLANKED = "blanked: its sender was erased"
"""The error a callback is left with once its body was emptied for an erasure: it marks the
row as done for good (reprocessing it would apply nothing and lose the mark)."""

_CHANNEL_COLUMNS = (
    Channel.id,
    Channel.tenant_id,
    Channel.provider,
    Channel.config,
)

_READ = select(*_CHANNEL_COLUMNS).where(Channel.id == bindparam("channel_id"))
"""Built once: the accept path pays no statement construction, only the cached compile."""

_STORE = text(
    """
    WITH incoming AS (
        SELECT *
        FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:channels AS uuid[]),
                    CAST(:providers AS text[]), CAST(:keys AS text[]),
                    CAST(:event_ids AS text[]), CAST(:content_types AS text[]),
                    CAST(:payloads AS bytea[]), CAST(:received AS timestamptz[]))
             WITH ORDINALITY
             AS v(id, tenant_id, channel_id, provider, dedupe_key, event_ids, content_type,
                  payload, received_at, ordinality)
    ),
    live AS (
        SELECT c.id, c.tenant_id FROM channels c
        WHERE c.id IN (SELECT channel_id FROM incoming)
    ),
    stored AS (
        INSERT INTO webhook_events (id, tenant_id, channel_id, provider, dedupe_key, event_ids,
                                    content_type, payload, received_at, next_attempt_at,
                                    attempts)
        SELECT i.id, i.tenant_id, i.channel_id, i.provider, i.dedupe_key,
               ARRAY(SELECT jsonb_array_elements_text(CAST(i.event_ids AS jsonb))),
               i.content_type, i.payload, i.received_at, i.received_at, 0
        FROM incoming i
        JOIN live l ON l.id = i.channel_id AND l.tenant_id = i.tenant_id
        ORDER BY i.channel_id, i.dedupe_key
        ON CONFLICT (channel_id, dedupe_key) DO NOTHING
        RETURNING id
    )
    SELECT i.id IN (SELECT id FROM stored),
           EXISTS (SELECT 1 FROM live l WHERE l.id = i.channel_id AND l.tenant_id = i.tenant_id)
    FROM incoming i
    ORDER BY i.ordinality
    """
)
"""Callbacks of any channels and tenants in one statement: each row says whether it was
stored (not a replay, not a repeat of an earlier row of the same batch: ``ON CONFLICT DO
NOTHING`` skips those) and whether its channel still exists. Each row's tenant is its
channel's; a row whose channel is gone is not inserted, so it cannot fail the others. Rows
are inserted in key order, so two groups holding the same keys wait for each other instead of
deadlocking."""

_CLAIM = text(
    """
    SELECT id, tenant_id, channel_id, provider, content_type, payload, received_at, attempts
    FROM webhook_events
    WHERE processed_at IS NULL AND next_attempt_at <= :now
    ORDER BY next_attempt_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)

_SETTLE = text(
    """
    UPDATE webhook_events e
    SET processed_at = CASE WHEN v.processed THEN :now END,
        next_attempt_at = COALESCE(v.retry_at, e.next_attempt_at),
        error = v.error,
        attempts = e.attempts + 1
    FROM unnest(CAST(:ids AS uuid[]), CAST(:processed AS boolean[]), CAST(:errors AS text[]),
                CAST(:retry_ats AS timestamptz[])) AS v(id, processed, error, retry_at)
    WHERE e.id = v.id
    """
)

_REJECT = text(
    """
    INSERT INTO webhook_rejections AS r (channel_id, tenant_id, count, last_at)
    VALUES (:channel_id, :tenant_id, 1, :now)
    ON CONFLICT (channel_id) DO UPDATE SET count = r.count + 1, last_at = :now
    """
)

_STATS = text(
    """
    SELECT c.id, c.provider,
           count(e.id), count(e.id) FILTER (WHERE e.processed_at IS NULL),
           count(e.id) FILTER (WHERE e.processed_at IS NOT NULL AND e.error IS NOT NULL
                               AND e.error <> :blanked),
           COALESCE(max(r.count), 0), max(e.received_at), max(r.last_at)
    FROM channels c
    LEFT JOIN webhook_events e ON e.tenant_id = c.tenant_id AND e.channel_id = c.id
    LEFT JOIN webhook_rejections r ON r.channel_id = c.id
    WHERE c.tenant_id = :tenant_id
    GROUP BY c.id, c.provider
    ORDER BY c.id
    """
)


@dataclass(frozen=True, slots=True)
class Incoming:
    """A verified callback to store: the tenant is its channel's, never the payload's."""

    tenant_id: UUID
    channel_id: UUID
    provider: str
    dedupe_key: str
    event_ids: Sequence[str]
    content_type: str
    payload: bytes
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Written:
    """What storing one callback did: ``stored`` is false for a replay (nothing changed);
    ``channel_live`` is false when its channel was deleted meanwhile (nothing stored)."""

    stored: bool
    channel_live: bool


async def store_events(connection: AsyncConnection, events: Sequence[Incoming]) -> list[Written]:
    """Store a batch of callbacks with one statement on a bare connection; one outcome per
    event, in order. The caller commits."""
    result = await connection.execute(
        _STORE,
        {
            "ids": [new_id() for _ in events],
            "tenants": [e.tenant_id for e in events],
            "channels": [e.channel_id for e in events],
            "providers": [e.provider for e in events],
            "keys": [e.dedupe_key for e in events],
            "event_ids": [orjson.dumps(list(e.event_ids)).decode() for e in events],
            "content_types": [e.content_type for e in events],
            "payloads": [e.payload for e in events],
            "received": [e.received_at for e in events],
        },
    )
    return [Written(bool(stored), bool(live)) for stored, live in result]


class HookRepository(Repository):
    async def channel(self, channel_id: UUID) -> HookChannel | None:
        row = (await self.session.execute(_READ, {"channel_id": channel_id})).first()
        return _channel(row) if row is not None else None

    async def channels(self, ids: Sequence[UUID]) -> dict[UUID, HookChannel]:
        rows = await self.session.execute(select(*_CHANNEL_COLUMNS).where(Channel.id.in_(ids)))
        return {row[0]: _channel(row) for row in rows}

    async def count_rejection(self, channel: HookChannel, now: datetime) -> None:
        await self.session.execute(
            _REJECT, {"channel_id": channel.id, "tenant_id": channel.tenant_id, "now": now}
        )

    async def claim(self, limit: int, now: datetime) -> list[Stored]:
        """Lock up to ``limit`` due events; rows another processor holds are skipped."""
        rows = await self.session.execute(_CLAIM, {"limit": limit, "now": now})
        return [Stored(*row) for row in rows]

    async def settle(self, settled: Sequence[Settled], now: datetime) -> None:
        """Every claimed event's outcome in one statement."""
        await self.session.execute(
            _SETTLE,
            {
                "now": now,
                "ids": [s.id for s in settled],
                "processed": [s.processed for s in settled],
                "errors": [s.error[:500] if s.error else None for s in settled],
                "retry_ats": [s.retry_at for s in settled],
            },
        )

    async def requeue(self, *, failed_only: bool, since: datetime | None, now: datetime) -> int:
        """Make processed events due again (all, or those that ended with an error), except
        those blanked for an erasure."""
        stmt = (
            update(WebhookEvent)
            .where(
                WebhookEvent.processed_at.is_not(None),
                WebhookEvent.error.is_distinct_from(BLANKED),
            )
            .values(processed_at=None, next_attempt_at=now, error=None)
        )
        if failed_only:
            stmt = stmt.where(WebhookEvent.error.is_not(None))
        if since is not None:
            stmt = stmt.where(WebhookEvent.received_at >= since)
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(
            text("DELETE FROM webhook_events WHERE received_at < :before"), {"before": before}
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def blank_mentioning(self, tenant_id: UUID, digits: str, now: datetime) -> int:
        """Empty the stored bodies of a tenant's callbacks that contain ``digits`` as a whole
        number (a number without its ``+``: Meta's ``wa_id``, Vonage's ``msisdn``, Twilio's
        ``%2B``-encoded form all spell it so), not inside a longer run of digits (another
        person's number that ends with it, a provider's id). The rows stay, so a provider's
        retry is still a replay; one not processed yet is settled, since its sender is gone.
        Erasure is rare: scanning the tenant's bodies is acceptable there (``position`` picks
        the candidates; the pattern runs on those only, over the body with any byte that is
        not printable ASCII escaped, so it reads any body)."""
        if not digits.isdigit():
            raise ValueError(f"not a number's digits: {digits!r}")
        result = await self.session.execute(
            text(
                """
                UPDATE webhook_events
                SET payload = ''::bytea, error = :blanked,
                    processed_at = COALESCE(processed_at, :now)
                WHERE tenant_id = :tenant_id AND position(CAST(:digits AS bytea) IN payload) > 0
                  AND encode(payload, 'escape') ~ ('(^|[^0-9])' || :number || '([^0-9]|$)')
                """
            ),
            {
                "tenant_id": tenant_id,
                "digits": digits.encode(),
                "number": digits,
                "now": now,
                "blanked": BLANKED,
            },
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def stats(self, tenant_id: UUID) -> list[ChannelStats]:
        rows = await self.session.execute(_STATS, {"tenant_id": tenant_id, "blanked": BLANKED})
        return [ChannelStats(*row) for row in rows]

    async def templates(
        self,
        tenant_id: UUID,
        channel_id: UUID,
        meta_ids: Sequence[str],
        names: Sequence[tuple[str, str]],
    ) -> list[WhatsAppTemplate]:
        """The tenant's templates bound to the channel (or to none) that Meta's updates name,
        by Meta's id or by (name, language), locked for their status change."""
        T = WhatsAppTemplate
        stmt = (
            select(T)
            .where(
                T.tenant_id == tenant_id,
                or_(T.channel_id == channel_id, T.channel_id.is_(None)),
                or_(T.meta_template_id.in_(meta_ids), tuple_(T.name, T.language).in_(names)),
            )
            .order_by(T.id)
            .with_for_update()
        )
        return list(await self.session.scalars(stmt))


def _channel(row: Row[Any]) -> HookChannel:
    values: Sequence[Any] = tuple(row)
    return HookChannel(
        id=values[0],
        tenant_id=values[1],
        provider=values[2],
        config=values[3],
    )
