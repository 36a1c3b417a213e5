"""The processor: applies stored callbacks after they were acknowledged. One loop runs in
every worker process beside the dispatch loop (``herald.runtime.processes``).

A batch is one transaction as the owner (the work spans tenants): claim due events with
``FOR UPDATE SKIP LOCKED``, parse each again with its provider's ``parse``, apply every receipt
of the batch at once (``herald.message.receipts``), hand the other events to their handlers
(``handlers.HANDLERS``; each group in its own tenant-scoped transaction) and record each row's
outcome in one UPDATE. A callback whose receipt found no message yet (or one still being
sent) is parked: due again after a back-off, dropped with a logged error after ``park_for``.
If the batch itself fails, the claimed rows are settled with the error and backed off, so a
poisonous row cannot stall the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel.models import Channel
from herald.hook.handlers import HANDLERS
from herald.hook.repository import HookChannel, HookRepository, Settled, Stored
from herald.kit.context import SYSTEM, bind_actor
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.receipts import ChannelReceipt, apply_receipts
from herald.providers.base import ProviderConfig, Receipt, WebhookEvent
from herald.providers.registry import PROVIDERS

log = structlog.get_logger(__name__)

ERROR_PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class ProcessPolicy:
    batch_size: int = 1000
    idle_seconds: float = 0.2
    """How long an idle loop waits before looking for due events again."""
    park_base: float = 2.0
    park_cap: float = 600.0
    park_for: timedelta = timedelta(hours=24)
    """A receipt whose message never becomes known is dropped (logged) after this long."""


@dataclass
class _Batch:
    """One claimed batch as the processor sorts it."""

    rows: list[Stored]
    receipts: list[ChannelReceipt] = field(default_factory=list)
    receipt_rows: list[int] = field(default_factory=list)
    groups: dict[tuple[UUID, type], list[tuple[int, WebhookEvent]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    errors: dict[int, str] = field(default_factory=dict)
    parked: set[int] = field(default_factory=set)


async def run_processor(db: Database, stop: asyncio.Event, policy: ProcessPolicy) -> None:
    """Process until ``stop`` is set; an error in a batch is logged and the loop goes on."""
    while not stop.is_set():
        try:
            handled = await process_once(db, policy)
        except Exception:
            log.exception("hooks.batch_failed")
            await asyncio.sleep(ERROR_PAUSE_SECONDS)
            continue
        if not handled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), policy.idle_seconds)


async def process_once(db: Database, policy: ProcessPolicy, now: datetime | None = None) -> int:
    """One batch; returns how many stored callbacks it took."""
    now = now or utcnow()
    async with db.system_session() as session:
        repo = HookRepository(session)
        rows = await repo.claim(policy.batch_size, now)
        if not rows:
            return 0
        try:
            async with session.begin_nested():
                settled = await _process(db, session, repo, rows, policy, now)
        except Exception as exc:
            log.exception("hooks.batch_rolled_back", events=len(rows))
            settled = [_retry(row, f"batch failed: {exc}", policy, now) for row in rows]
        await repo.settle(settled, now)
    return len(rows)


async def _process(
    db: Database,
    session: AsyncSession,
    repo: HookRepository,
    rows: Sequence[Stored],
    policy: ProcessPolicy,
    now: datetime,
) -> list[Settled]:
    channels = await repo.channels(list({row.channel_id for row in rows}))
    batch = _sort(rows, channels)
    applied = await apply_receipts(session, batch.receipts, now)
    batch.parked.update(batch.receipt_rows[i] for i in applied.parked)
    for (channel_id, kind), events in batch.groups.items():
        await _handle(db, channels[channel_id], kind, events, batch.errors)
    return [_outcome(i, row, batch, policy, now) for i, row in enumerate(rows)]


def _sort(rows: Sequence[Stored], channels: dict[UUID, HookChannel]) -> _Batch:
    """Parse every row: receipts for the set-based step, the rest grouped by channel and type."""
    batch = _Batch(list(rows))
    configs: dict[UUID, ProviderConfig | str] = {}
    for i, row in enumerate(rows):
        if row.channel_id not in configs:
            configs[row.channel_id] = _config(row, channels.get(row.channel_id))
        events = _parse(row, configs[row.channel_id])
        if isinstance(events, str):
            batch.errors[i] = events
            continue
        for event in events:
            if isinstance(event, Receipt):
                batch.receipts.append(ChannelReceipt(row.tenant_id, row.channel_id, event))
                batch.receipt_rows.append(i)
            else:
                batch.groups[(row.channel_id, type(event))].append((i, event))
    return batch


def _config(row: Stored, channel: HookChannel | None) -> ProviderConfig | str:
    """The channel's config (validated once per batch), or why the row cannot be read."""
    provider = PROVIDERS.get(row.provider)
    if channel is None or provider is None or channel.provider != row.provider:
        return f"channel {row.channel_id} is no longer a {row.provider} channel"
    try:
        return provider.config_schema.model_validate(channel.config)
    except ValidationError:
        return f"channel {row.channel_id} has an invalid {row.provider} configuration"


def _parse(row: Stored, config: ProviderConfig | str) -> list[WebhookEvent] | str:
    if isinstance(config, str):
        return config
    return PROVIDERS[row.provider].parse(config, row.payload, row.content_type)


async def _handle(
    db: Database,
    channel: HookChannel,
    kind: type,
    events: Sequence[tuple[int, Any]],
    errors: dict[int, str],
) -> None:
    """One group through its handler in a transaction of the channel's tenant; a failure is
    recorded on the group's rows (reprocess them once fixed)."""
    indexes = {i for i, _ in events}
    handler = HANDLERS.get(kind)
    if handler is None:
        errors.update((i, f"no handler for {kind.__name__} events") for i in indexes)
        return
    try:
        async with db.tenant_session(channel.tenant_id) as session:
            bind_actor(session, SYSTEM, channel.tenant_id)  # audited as Herald's own work
            found = await session.get(Channel, channel.id)
            if found is None:
                raise LookupError(f"channel {channel.id} is gone")
            await handler(session, found, [event for _, event in events])
    except Exception as exc:
        log.exception("hooks.handler_failed", channel_id=str(channel.id), kind=kind.__name__)
        errors.update((i, f"{kind.__name__}: {exc}") for i in indexes)


def _outcome(
    index: int, row: Stored, batch: _Batch, policy: ProcessPolicy, now: datetime
) -> Settled:
    if index in batch.parked:
        if now - row.received_at >= policy.park_for:
            log.warning(
                "hooks.receipt_dropped", event_id=str(row.id), channel_id=str(row.channel_id)
            )
            return Settled(row.id, True, "dropped: no message of this channel has its id")
        return _retry(row, "parked: the message is not known or not sent yet", policy, now)
    return Settled(row.id, True, batch.errors.get(index))


def _retry(row: Stored, error: str, policy: ProcessPolicy, now: datetime) -> Settled:
    delay = min(policy.park_cap, policy.park_base * 2**row.attempts)
    return Settled(row.id, False, error, now + timedelta(seconds=delay))
