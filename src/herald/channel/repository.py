"""All SQL of channels: CRUD, the circuit breaker's atomic updates, sender pools and the
set-based sticky-sender assignment."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel.models import Channel, ChannelStatus, SenderPool, SenderPoolMember
from herald.channel.schemas import ChannelFilters
from herald.contact.models import ChannelKind
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.whatsapp.models import WhatsAppTemplate

PROBE_BACKOFF_MAX_SECONDS = 900


@dataclass(frozen=True)
class Breaker:
    """When a channel's circuit opens, and how long its first probe waits (the wait doubles
    with each failed probe, up to ``PROBE_BACKOFF_MAX_SECONDS``)."""

    failures_to_open: int = 5
    """Consecutive provider failures that open the circuit."""
    probe_backoff_seconds: float = 30.0


SUCCESS_WRITE_EVERY_SECONDS = 1
"""A healthy channel's ``last_success_at`` is written at most once a second, so the hot path
does not update the same row for every message it sends."""

_FAILURE = text(
    """
    WITH prev AS (
        SELECT id, status FROM channels WHERE id = :channel_id FOR UPDATE
    )
    UPDATE channels AS c SET
        consecutive_failures = c.consecutive_failures + :count,
        last_failure_at = :now,
        status = CASE
            WHEN c.status = 'active' AND c.consecutive_failures + :count >= :threshold
                THEN 'failing'
            ELSE c.status END,
        status_reason = CASE
            WHEN c.status = 'paused' THEN c.status_reason
            WHEN c.status = 'failing' OR c.consecutive_failures + :count >= :threshold
                THEN left(:reason, 500)
            ELSE c.status_reason END,
        probe_after = CASE
            WHEN c.status = 'paused' OR c.consecutive_failures + :count < :threshold
                THEN c.probe_after
            ELSE CAST(:now AS timestamptz) + make_interval(secs => least(
                :backoff_max,
                :backoff * power(2, least(c.consecutive_failures + :count - :threshold, 20))
            )) END,
        updated_at = :now
    FROM prev
    WHERE c.id = prev.id
    RETURNING prev.status AS was, c.status AS became
    """
)
"""One statement, the row locked first: two workers failing at once count two failures, and
exactly one of them sees the breaker open. A failure while failing (a failed probe) pushes the
next probe further out; a paused channel counts failures but keeps its status."""

_SUCCESS = text(
    """
    UPDATE channels SET
        consecutive_failures = 0,
        last_success_at = :now,
        status = CASE WHEN status = 'failing' THEN 'active' ELSE status END,
        status_reason = CASE WHEN status = 'failing' THEN NULL ELSE status_reason END,
        probe_after = NULL,
        updated_at = :now
    WHERE id = :channel_id AND (
        consecutive_failures > 0 OR status = 'failing' OR last_success_at IS NULL
        OR last_success_at < CAST(:now AS timestamptz) - make_interval(secs => :every)
    )
    """
)

_CLAIM_PROBE = text(
    """
    UPDATE channels SET probe_after = CAST(:now AS timestamptz) + make_interval(secs => :hold)
    WHERE id = :channel_id AND status = 'failing' AND probe_after <= :now
    RETURNING id
    """
)

_ASSIGN = text(
    """
    WITH members AS (
        SELECT m.channel_id,
               row_number() OVER (ORDER BY m.channel_id) - 1 AS slot,
               count(*) OVER () AS total
        FROM sender_pool_members m JOIN channels c ON c.id = m.channel_id
        WHERE m.pool_id = :pool_id AND c.status = 'active'
    ), wanted AS (
        SELECT ct.id AS contact_id
        FROM unnest(CAST(:contact_ids AS uuid[])) AS given(id)
        JOIN contacts ct ON ct.id = given.id AND ct.tenant_id = :tenant_id
    )
    INSERT INTO sticky_senders (tenant_id, pool_id, contact_id, channel_id)
    SELECT :tenant_id, :pool_id, w.contact_id, m.channel_id
    FROM wanted w JOIN members m
      ON m.slot = mod(hashtext(CAST(w.contact_id AS text))::bigint + 2147483648, m.total)
    ON CONFLICT DO NOTHING
    """
)
"""New contacts spread over the pool's active channels by a hash of their id (stable and even,
with no counter to contend on); a contact already assigned keeps its sender."""

_ASSIGNED = text(
    """
    SELECT contact_id, channel_id FROM sticky_senders
    WHERE pool_id = :pool_id AND contact_id = ANY(CAST(:contact_ids AS uuid[]))
    """
)


class ChannelInUse(Exception):
    """The channel is still referenced by messages (RESTRICT foreign key)."""


class ChannelRepository(Repository):
    async def get(
        self, tenant_id: UUID, channel_id: UUID, *, for_update: bool = False
    ) -> Channel | None:
        stmt = select(Channel).where(Channel.tenant_id == tenant_id, Channel.id == channel_id)
        return await self.session.scalar(stmt.with_for_update() if for_update else stmt)

    async def get_by_name(self, tenant_id: UUID, name: str) -> Channel | None:
        return await self.session.scalar(
            select(Channel).where(Channel.tenant_id == tenant_id, Channel.name == name)
        )

    async def get_many(self, tenant_id: UUID, channel_ids: Sequence[UUID]) -> list[Channel]:
        stmt = select(Channel).where(Channel.tenant_id == tenant_id, Channel.id.in_(channel_ids))
        return list((await self.session.scalars(stmt)).all())

    def add(self, channel: Channel) -> None:
        self.session.add(channel)

    async def delete(self, channel: Channel) -> None:
        """Delete, or raise ``ChannelInUse`` when messages still point at the channel."""
        try:
            async with self.session.begin_nested():
                await self.session.delete(channel)
                await self.session.flush()
        except IntegrityError as exc:
            raise ChannelInUse from exc

    async def list(
        self, tenant_id: UUID, filters: ChannelFilters, params: PageParams
    ) -> Slice[Channel]:
        stmt = select(Channel).where(Channel.tenant_id == tenant_id)
        for column, value in (
            (Channel.kind, filters.kind),
            (Channel.provider, filters.provider),
            (Channel.status, filters.status),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        return await self.page(stmt, params, Channel.name, Channel.id)

    async def active_whatsapp(self, provider: str) -> builtins.list[tuple[UUID, UUID]]:
        """``(tenant_id, channel_id)`` of every active WhatsApp channel on ``provider`` with a
        business account id (system session: crosses tenants)."""
        stmt = select(Channel.tenant_id, Channel.id).where(
            Channel.kind == ChannelKind.whatsapp,
            Channel.provider == provider,
            Channel.status == ChannelStatus.active,
            Channel.waba_id.is_not(None),
        )
        return [(row[0], row[1]) for row in (await self.session.execute(stmt)).all()]

    async def record_failure(
        self, channel_id: UUID, now: datetime, reason: str, breaker: Breaker, count: int
    ) -> bool:
        row = (
            await self.session.execute(
                _FAILURE,
                {
                    "channel_id": channel_id,
                    "now": now,
                    "reason": reason,
                    "count": count,
                    "threshold": breaker.failures_to_open,
                    "backoff": breaker.probe_backoff_seconds,
                    "backoff_max": PROBE_BACKOFF_MAX_SECONDS,
                },
            )
        ).first()
        return row is not None and row.was == "active" and row.became == "failing"

    async def record_success(self, channel_id: UUID, now: datetime) -> None:
        await self.session.execute(
            _SUCCESS, {"channel_id": channel_id, "now": now, "every": SUCCESS_WRITE_EVERY_SECONDS}
        )

    async def claim_probe(self, channel_id: UUID, now: datetime, hold_seconds: int) -> bool:
        params = {"channel_id": channel_id, "now": now, "hold": hold_seconds}
        return (await self.session.execute(_CLAIM_PROBE, params)).first() is not None


class PoolRepository(Repository):
    async def get(self, tenant_id: UUID, pool_id: UUID) -> SenderPool | None:
        return await self.session.scalar(
            select(SenderPool).where(SenderPool.tenant_id == tenant_id, SenderPool.id == pool_id)
        )

    async def get_by_name(self, tenant_id: UUID, name: str) -> SenderPool | None:
        return await self.session.scalar(
            select(SenderPool).where(SenderPool.tenant_id == tenant_id, SenderPool.name == name)
        )

    def add(self, pool: SenderPool) -> None:
        self.session.add(pool)

    async def delete(self, pool: SenderPool) -> None:
        await self.session.delete(pool)

    async def list(self, tenant_id: UUID, params: PageParams) -> Slice[SenderPool]:
        stmt = select(SenderPool).where(SenderPool.tenant_id == tenant_id)
        return await self.page(stmt, params, SenderPool.name, SenderPool.id)

    async def members(self, pool_ids: Sequence[UUID]) -> dict[UUID, builtins.list[UUID]]:
        """Each pool's channel ids, for a page of pools in one query."""
        found: dict[UUID, builtins.list[UUID]] = {pool_id: [] for pool_id in pool_ids}
        stmt = (
            select(SenderPoolMember.pool_id, SenderPoolMember.channel_id)
            .where(SenderPoolMember.pool_id.in_(pool_ids))
            .order_by(SenderPoolMember.channel_id)
        )
        for pool_id, channel_id in (await self.session.execute(stmt)).all():
            found[pool_id].append(channel_id)
        return found

    async def set_members(self, pool: SenderPool, channel_ids: Sequence[UUID]) -> None:
        """Make the members exactly ``channel_ids``; stuck contacts of a removed channel are
        released (they get a new sender at their next assignment)."""
        await self.session.execute(
            delete(SenderPoolMember).where(
                SenderPoolMember.pool_id == pool.id,
                SenderPoolMember.channel_id.not_in(channel_ids),
            )
        )
        await self.session.execute(
            text(
                "DELETE FROM sticky_senders WHERE pool_id = :pool_id "
                "AND NOT (channel_id = ANY(CAST(:channel_ids AS uuid[])))"
            ),
            {"pool_id": pool.id, "channel_ids": list(channel_ids)},
        )
        if channel_ids:
            rows: list[dict[str, Any]] = [
                {"tenant_id": pool.tenant_id, "pool_id": pool.id, "channel_id": channel_id}
                for channel_id in channel_ids
            ]
            await self.session.execute(
                insert(SenderPoolMember).values(rows).on_conflict_do_nothing()
            )

    async def assign(
        self, tenant_id: UUID, pool_id: UUID, contact_ids: Sequence[UUID]
    ) -> dict[UUID, UUID]:
        params = {"tenant_id": tenant_id, "pool_id": pool_id, "contact_ids": list(contact_ids)}
        await self.session.execute(_ASSIGN, params)
        rows = (await self.session.execute(_ASSIGNED, params)).all()
        return {row.contact_id: row.channel_id for row in rows}


class TemplateCacheRepository(Repository):
    """The channel's copy of its WhatsApp templates at Meta (table ``whatsapp_templates``)."""

    async def of_channel(
        self, tenant_id: UUID, channel_id: UUID
    ) -> builtins.list[WhatsAppTemplate]:
        stmt = select(WhatsAppTemplate).where(
            WhatsAppTemplate.tenant_id == tenant_id, WhatsAppTemplate.channel_id == channel_id
        )
        return list((await self.session.scalars(stmt)).all())

    async def upsert(self, rows: Sequence[dict[str, Any]]) -> None:
        """One ``INSERT … ON CONFLICT DO UPDATE`` for the whole list Meta returned."""
        if not rows:
            return
        stmt = insert(WhatsAppTemplate).values(list(rows))
        kept = ("id", "tenant_id", "channel_id", "name", "language", "created_at", "submitted_at")
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "channel_id", "name", "language"],
            set_={
                column.name: stmt.excluded[column.name]
                for column in WhatsAppTemplate.__table__.columns
                if column.name not in kept
            },
        )
        await self.session.execute(stmt)


async def operator_view(
    session: AsyncSession, tenant_id: UUID | None, status: ChannelStatus | None, limit: int
) -> Sequence[Channel]:
    """Channels of every tenant (or one), for the operator's command line (system session)."""
    stmt = select(Channel).order_by(Channel.tenant_id, Channel.name).limit(limit)
    if tenant_id is not None:
        stmt = stmt.where(Channel.tenant_id == tenant_id)
    if status is not None:
        stmt = stmt.where(Channel.status == status)
    return (await session.scalars(stmt)).all()
