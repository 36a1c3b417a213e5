"""All SQL of applying delivery receipts. It runs as the owner (one batch spans tenants), so
every statement matches a message by tenant **and** channel as well as by id: a receipt posted
to one tenant's channel URL can only ever reach that channel's messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, text

from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.kit.repository import Repository


@dataclass(frozen=True, slots=True)
class Lookup:
    """Where a receipt points: the channel it came through, the provider's id and, where the
    provider echoes it, Herald's own message id (``reference``)."""

    tenant_id: UUID
    channel_id: UUID
    provider_message_id: str
    reference: UUID | None


@dataclass(frozen=True, slots=True)
class Located:
    """A receipt's message, locked for this transaction."""

    index: int
    id: UUID
    tenant_id: UUID
    contact_id: UUID | None
    campaign_id: UUID | None
    status: str
    provider_message_id: str | None
    cost_micros: int | None


@dataclass(frozen=True, slots=True)
class Change:
    """What one message becomes, as one row of the batch's single UPDATE."""

    id: UUID
    tenant_id: UUID
    status: str
    provider_message_id: str | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    error_code: str | None
    error_reason: str | None


_LOCATE = text(
    """
    WITH v AS (
        SELECT *
        FROM unnest(CAST(:idx AS integer[]), CAST(:tenants AS uuid[]),
                    CAST(:channels AS uuid[]), CAST(:provider_ids AS text[]),
                    CAST(:refs AS uuid[]))
             AS v(idx, tenant_id, channel_id, provider_id, ref)
    ),
    matched AS (
        SELECT v.idx, m.id
        FROM v JOIN messages m
          ON m.channel_id = v.channel_id AND m.provider_message_id = v.provider_id
         AND m.tenant_id = v.tenant_id AND m.direction = 'outbound'
        UNION ALL
        SELECT v.idx, m.id
        FROM v JOIN messages m
          ON m.id = v.ref AND m.provider_message_id IS NULL
         AND m.tenant_id = v.tenant_id AND m.channel_id = v.channel_id
         AND m.direction = 'outbound'
    )
    SELECT matched.idx, m.id, m.tenant_id, m.contact_id, m.campaign_id, m.status,
           m.provider_message_id, m.cost_micros
    FROM matched JOIN messages m ON m.id = matched.id
    ORDER BY m.id
    FOR UPDATE OF m
    """
)
"""A receipt matches by the provider's id, or by Herald's own id where no provider id was
recorded: two index lookups joined by ``UNION ALL`` (a message can only match one way), as
one ``OR`` in a join condition would compare every receipt with every message of the
channel."""

_APPLY = text(
    """
    UPDATE messages m
    SET status = v.status,
        provider_message_id = COALESCE(m.provider_message_id, v.provider_id),
        sent_at = COALESCE(m.sent_at, v.sent_at),
        delivered_at = LEAST(m.delivered_at, v.delivered_at),
        read_at = LEAST(m.read_at, v.read_at),
        failed_at = COALESCE(m.failed_at, v.failed_at),
        error_code = COALESCE(v.code, m.error_code),
        error_reason = COALESCE(v.reason, m.error_reason),
        updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:statuses AS text[]),
                CAST(:provider_ids AS text[]), CAST(:sent AS timestamptz[]),
                CAST(:delivered AS timestamptz[]), CAST(:read AS timestamptz[]),
                CAST(:failed AS timestamptz[]), CAST(:codes AS text[]), CAST(:reasons AS text[]))
         AS v(id, tenant_id, status, provider_id, sent_at, delivered_at, read_at, failed_at,
              code, reason)
    WHERE m.id = v.id AND m.tenant_id = v.tenant_id
    """
)


class ReceiptRepository(Repository):
    async def locate(self, lookups: Sequence[Lookup]) -> list[Located]:
        """Every receipt's message, in one statement, locked in id order (two processors
        sharing messages never deadlock). A receipt that matches nothing is absent."""
        rows = await self.session.execute(
            _LOCATE,
            {
                "idx": list(range(len(lookups))),
                "tenants": [lookup.tenant_id for lookup in lookups],
                "channels": [lookup.channel_id for lookup in lookups],
                "provider_ids": [lookup.provider_message_id for lookup in lookups],
                "refs": [lookup.reference for lookup in lookups],
            },
        )
        return [Located(*row) for row in rows]

    async def channels_of(self, ids: Iterable[UUID]) -> dict[UUID, tuple[ChannelKind, str]]:
        """Each channel's medium and provider."""
        rows = await self.session.execute(
            select(Channel.id, Channel.kind, Channel.provider).where(Channel.id.in_(list(ids)))
        )
        return {row.id: (row.kind, row.provider) for row in rows}

    async def apply(self, changes: Sequence[Change], now: datetime) -> None:
        """Every message of the batch in one UPDATE."""
        await self.session.execute(
            _APPLY,
            {
                "now": now,
                "ids": [c.id for c in changes],
                "tenants": [c.tenant_id for c in changes],
                "statuses": [c.status for c in changes],
                "provider_ids": [c.provider_message_id for c in changes],
                "sent": [c.sent_at for c in changes],
                "delivered": [c.delivered_at for c in changes],
                "read": [c.read_at for c in changes],
                "failed": [c.failed_at for c in changes],
                "codes": [c.error_code for c in changes],
                "reasons": [c.error_reason for c in changes],
            },
        )
