"""All SQL of the dispatch engine. It runs as the owner (the work spans tenants), so every
statement that writes a message matches it by tenant **and** id, and only from the status the
engine left it in: a row another worker or a receipt moved on is never overwritten."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, text

from herald.channel.models import Channel
from herald.kit.repository import Repository
from herald.message.dispatch_models import WindowSpan


@dataclass(frozen=True, slots=True)
class Claimed:
    """A due message, locked by this worker's claim transaction."""

    id: UUID
    tenant_id: UUID
    channel_id: UUID
    contact_id: UUID | None
    campaign_id: UUID | None
    to_address: str | None
    body: str | None
    template: dict[str, Any] | None
    segments: int | None
    attempts: int
    refusal: str | None = None
    """Why the recipient may no longer be messaged (``opted_out``, ``do_not_contact``,
    ``blocked``, ``erased``); ``None`` when it may. Only a compliance reply (a keyword's
    confirmation) goes to an opted-out or do-not-contact recipient."""
    compliance: bool = False
    """A keyword's answer (listed in ``compliance_replies``): sent unpriced, so neither an
    empty prepaid wallet nor a reached budget can hold the confirmation the law requires."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one send, as one row of the batch's single UPDATE."""

    id: UUID
    tenant_id: UUID
    status: str
    provider_message_id: str | None = None
    error_code: str | None = None
    error_reason: str | None = None
    next_attempt_at: datetime | None = None
    segments: int | None = None
    attempted: bool = True
    """False when the message was claimed but never handed over (held by the kill switch):
    the claim's count of an attempt is given back."""


@dataclass(frozen=True, slots=True)
class Sendable:
    """A claimed message granted a share of its channel's caps, priced."""

    id: UUID
    tenant_id: UUID
    cost_micros: int | None
    currency: str | None


_CLAIM = text(
    """
    SELECT m.id, m.tenant_id, m.channel_id, m.contact_id, m.campaign_id, m.to_address,
           m.body, m.template, m.segments, m.attempts,
           -- The recipient's standing now: an opt-out since queueing stops the send.
           CASE WHEN m.contact_id IS NULL THEN NULL
                WHEN k.id IS NULL OR k.erased_at IS NOT NULL THEN 'erased'
                WHEN k.blocked THEN 'blocked'
                WHEN r.message_id IS NOT NULL THEN NULL
                WHEN (CASE WHEN c.kind = 'sms' THEN k.sms_status ELSE k.whatsapp_status END)
                     = 'opted_out' THEN 'opted_out'
                WHEN EXISTS (SELECT 1 FROM do_not_contact d
                             WHERE d.tenant_id = k.tenant_id
                               AND d.phone_hash = k.phone_hash)
                     THEN 'do_not_contact'
           END AS refusal,
           r.message_id IS NOT NULL AS compliance
    FROM messages m JOIN channels c ON c.id = m.channel_id
         LEFT JOIN contacts k ON k.id = m.contact_id
         LEFT JOIN compliance_replies r ON r.message_id = m.id
    WHERE m.status = 'queued' AND m.direction = 'outbound' AND m.next_attempt_at <= :now
      AND (c.status = 'active' OR (c.status = 'failing' AND c.probe_after <= :now))
      AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = m.tenant_id AND t.is_paused)
      AND NOT EXISTS (SELECT 1 FROM campaigns cp
                      WHERE cp.id = m.campaign_id AND cp.status <> 'running')
    ORDER BY m.next_attempt_at
    LIMIT :limit
    FOR UPDATE OF m SKIP LOCKED
    """
)

_RESERVE = text(
    """
    INSERT INTO channel_send_windows AS w (channel_id, span, window_start, count, last_grant)
    VALUES (:channel_id, :span, :start, LEAST(:wanted, :cap), LEAST(:wanted, :cap))
    ON CONFLICT (channel_id, span, window_start) DO UPDATE
    SET count = LEAST(:cap, w.count + :wanted),
        last_grant = LEAST(:cap, w.count + :wanted) - w.count
    RETURNING last_grant
    """
)

_MARK_SENDING = text(
    """
    UPDATE messages m
    SET status = 'sending', attempts = m.attempts + 1, sending_at = :now, updated_at = :now,
        cost_micros = COALESCE(v.cost, m.cost_micros), currency = COALESCE(v.currency, m.currency)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:costs AS bigint[]),
                CAST(:currencies AS text[])) AS v(id, tenant_id, cost, currency)
    WHERE m.id = v.id AND m.tenant_id = v.tenant_id AND m.status = 'queued'
    """
)

_POSTPONE = text(
    """
    UPDATE messages m
    SET next_attempt_at = :until, updated_at = :now,
        error_code = COALESCE(:code, m.error_code), error_reason = COALESCE(:reason, m.error_reason)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[])) AS v(id, tenant_id)
    WHERE m.id = v.id AND m.tenant_id = v.tenant_id AND m.status = 'queued'
    """
)

_FAIL_QUEUED = text(
    """
    UPDATE messages m
    SET status = 'failed', error_code = :code, error_reason = :reason, failed_at = :now,
        updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[])) AS v(id, tenant_id)
    WHERE m.id = v.id AND m.tenant_id = v.tenant_id AND m.status = 'queued'
    """
)

_RECORD = text(
    """
    UPDATE messages m
    SET status = v.status,
        provider_message_id = COALESCE(v.provider_id, m.provider_message_id),
        error_code = v.code,
        error_reason = v.reason,
        next_attempt_at = COALESCE(v.next_at, m.next_attempt_at),
        segments = COALESCE(v.segments, m.segments),
        attempts = CASE WHEN v.attempted THEN m.attempts ELSE m.attempts - 1 END,
        sent_at = CASE WHEN v.status = 'sent' THEN :now ELSE m.sent_at END,
        failed_at = CASE WHEN v.status = 'failed' THEN :now ELSE m.failed_at END,
        updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:statuses AS text[]),
                CAST(:provider_ids AS text[]), CAST(:codes AS text[]), CAST(:reasons AS text[]),
                CAST(:next_ats AS timestamptz[]), CAST(:segments AS integer[]),
                CAST(:attempted AS boolean[]))
         AS v(id, tenant_id, status, provider_id, code, reason, next_at, segments, attempted)
    WHERE m.id = v.id AND m.tenant_id = v.tenant_id AND m.status = 'sending'
    """
)

_STUCK = text(
    """
    UPDATE messages m
    SET status = 'unknown', error_code = 'in_doubt', error_reason = :reason, updated_at = :now
    WHERE m.status = 'sending' AND m.sending_at < :cutoff
    RETURNING m.id, m.tenant_id, m.contact_id, m.campaign_id
    """
)


class DispatchRepository(Repository):
    async def claim(self, limit: int, now: datetime) -> list[Claimed]:
        """Lock up to ``limit`` due messages of channels that may send (active, or failing with
        a probe due); rows locked by another worker are skipped, never waited for."""
        rows = await self.session.execute(_CLAIM, {"limit": limit, "now": now})
        return [Claimed(*row) for row in rows]

    async def paused_among(self, tenant_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these tenants turned the kill switch on."""
        rows = await self.session.scalars(
            text("SELECT id FROM tenants WHERE id = ANY(CAST(:ids AS uuid[])) AND is_paused"),
            {"ids": list(tenant_ids)},
        )
        return set(rows)

    async def channels(self, ids: Sequence[UUID]) -> list[Channel]:
        found = await self.session.scalars(select(Channel).where(Channel.id.in_(ids)))
        return list(found)

    async def hold_probe(self, channel_id: UUID, until: datetime) -> None:
        """One probe per open circuit: move the next one out before this one is sent."""
        await self.session.execute(
            text("UPDATE channels SET probe_after = :until WHERE id = :id"),
            {"until": until, "id": channel_id},
        )

    async def reserve(
        self, channel_id: UUID, span: WindowSpan, start: datetime, cap: int, wanted: int
    ) -> int:
        """Take up to ``wanted`` sends of the window's ``cap``; returns how many were granted.
        The row lock of the upsert serializes workers, so grants never add up past the cap."""
        granted = await self.session.scalar(
            _RESERVE,
            {
                "channel_id": channel_id,
                "span": span.value,
                "start": start,
                "cap": cap,
                "wanted": wanted,
            },
        )
        return int(granted or 0)

    async def mark_sending(self, sendable: Sequence[Sendable], now: datetime) -> None:
        await self.session.execute(
            _MARK_SENDING,
            {
                "now": now,
                "ids": [s.id for s in sendable],
                "tenants": [s.tenant_id for s in sendable],
                "costs": [s.cost_micros for s in sendable],
                "currencies": [s.currency for s in sendable],
            },
        )

    async def postpone(
        self,
        messages: Sequence[Claimed],
        until: datetime,
        now: datetime,
        *,
        code: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Leave claimed messages queued until ``until`` (with why, when there is a reason)."""
        await self.session.execute(
            _POSTPONE,
            {
                "until": until,
                "now": now,
                "code": code,
                "reason": reason,
                "ids": [m.id for m in messages],
                "tenants": [m.tenant_id for m in messages],
            },
        )

    async def fail_queued(
        self, messages: Sequence[Claimed], code: str, reason: str, now: datetime
    ) -> None:
        await self.session.execute(
            _FAIL_QUEUED,
            {
                "code": code,
                "reason": reason[:500],
                "now": now,
                "ids": [m.id for m in messages],
                "tenants": [m.tenant_id for m in messages],
            },
        )

    async def record(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Every outcome of a batch in one statement."""
        await self.session.execute(
            _RECORD,
            {
                "now": now,
                "ids": [o.id for o in outcomes],
                "tenants": [o.tenant_id for o in outcomes],
                "statuses": [o.status for o in outcomes],
                "provider_ids": [o.provider_message_id for o in outcomes],
                "codes": [o.error_code for o in outcomes],
                "reasons": [o.error_reason for o in outcomes],
                "next_ats": [o.next_attempt_at for o in outcomes],
                "segments": [o.segments for o in outcomes],
                "attempted": [o.attempted for o in outcomes],
            },
        )

    async def mark_stuck_unknown(
        self, cutoff: datetime, reason: str, now: datetime
    ) -> list[tuple[UUID, UUID, UUID | None, UUID | None]]:
        rows = await self.session.execute(_STUCK, {"cutoff": cutoff, "reason": reason, "now": now})
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def sweep_windows(self, before: datetime) -> None:
        await self.session.execute(
            text("DELETE FROM channel_send_windows WHERE window_start < :before"),
            {"before": before},
        )
