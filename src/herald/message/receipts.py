"""Delivery receipts applied to messages, a batch at a time, forward only.

The rules:

- A message only moves forward: queued → sending → (unknown) → sent → delivered → read.
  ``failed`` and ``undelivered`` end it, with the provider's code and reason; they may follow
  ``sent`` or ``unknown`` but not ``delivered`` or ``read`` (a carrier's late contradiction).
- Receipts arrive in any order. ``read`` before ``delivered`` sets both times (the read time
  stands in for the delivery until the delivery's own receipt brings an earlier one); a stale
  receipt changes no status but still gives its time. Every time the provider gave is kept.
- A receipt is **parked** (the caller retries it later) when its message is not known yet or
  is still ``queued``/``sending``: the provider answered the send faster than the dispatch's
  record step committed. Parking rather than applying keeps ``_RECORD`` (which only moves
  ``sending`` rows) from ever overwriting a receipt, with no change to dispatch.
- A receipt matches a message of the channel it came through by the provider's id, or by
  Herald's own id where the provider echoes it back and no provider id was recorded (an
  in-doubt ``unknown`` send): never a message of another channel or tenant.
- Events (sent from ``unknown``, delivered, read, failed) are appended in the same
  transaction; a failure reported after the message was charged refunds it once (the refund's
  key is the one dispatch uses, so dispatch and a receipt can never both refund).

- A failure the provider blames on the recipient's opt-out (Twilio 21610, WhatsApp 131050:
  each adapter's error table says which codes) opts the contact out of that medium, with the
  provider's receipt and code as the proof.

Set-based: one SELECT … FOR UPDATE and one UPDATE per batch, one INSERT for its events (and,
when some recipient opted out, one read of their channels and one statement for their
consent).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.contact.repository import ReportedOptOut
from herald.contact.service import record_reported_opt_outs
from herald.message.models import MessageStatus
from herald.message.receipts_repository import Change, Located, Lookup, ReceiptRepository
from herald.message.repository import NewEvent, record_events
from herald.providers.base import DeliveryStatus, ErrorKind, Receipt
from herald.wallet.service import refund

S = MessageStatus
RANK: dict[str, int] = {
    S.queued: 0,
    S.sending: 1,
    S.unknown: 2,
    S.sent: 3,
    S.delivered: 4,
    S.read: 5,
    S.failed: 6,
    S.undelivered: 6,
}
ENDED = frozenset({S.failed.value, S.undelivered.value})
REACHED = frozenset({S.delivered.value, S.read.value})
PARK_WHILE = frozenset({S.queued.value, S.sending.value})
EVENT_OF = {
    S.sent.value: "sent",
    S.delivered.value: "delivered",
    S.read.value: "read",
    S.failed.value: "failed",
    S.undelivered.value: "failed",
}

HOOK_PATHS: dict[str, tuple[str, str]] = {
    "simulator": ("simulator", ""),
    "twilio": ("twilio", "/status"),
    "whatsapp_cloud": ("whatsapp", ""),
    "mitto": ("mitto", ""),
    "vonage": ("vonage", ""),
}
"""Provider code → (the path segment of its webhooks, the suffix of its status callbacks)."""


def status_url(base_url: str, provider: str, channel_id: UUID) -> str | None:
    """Where a channel's provider posts delivery receipts: ``{base}/v1/hooks/{slug}/{id}``
    plus the provider's suffix. Mitto's callbacks carry the channel's token, which only the
    channel's owner configures at Mitto, so none is set per message."""
    if provider not in HOOK_PATHS or provider == "mitto":
        return None
    slug, suffix = HOOK_PATHS[provider]
    return f"{base_url.rstrip('/')}/v1/hooks/{slug}/{channel_id}{suffix}"


@dataclass(frozen=True, slots=True)
class ChannelReceipt:
    """A parsed receipt and the channel (of that tenant) whose URL it was posted to."""

    tenant_id: UUID
    channel_id: UUID
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class Applied:
    parked: frozenset[int]
    """Indexes of the receipts to try again later (message unknown or not yet ``sent``)."""
    changed: int
    """Messages whose status moved."""


def advances(old: str, new: str) -> bool:
    """Whether a message in ``old`` moves to ``new``."""
    if old in ENDED or new not in RANK:
        return False
    if new in ENDED:
        return old not in REACHED
    return RANK[new] > RANK[old]


async def apply_receipts(
    session: AsyncSession, items: Sequence[ChannelReceipt], now: datetime
) -> Applied:
    """Apply a batch of receipts (any tenants, any order); see the module's rules."""
    if not items:
        return Applied(frozenset(), 0)
    repo = ReceiptRepository(session)
    located = await repo.locate([_lookup(item) for item in items])
    by_message: dict[UUID, list[int]] = defaultdict(list)
    rows: dict[UUID, Located] = {}
    for row in located:
        by_message[row.id].append(row.index)
        rows[row.id] = row
    found = {row.index for row in located}
    parked = {i for i in range(len(items)) if i not in found}
    changes: list[Change] = []
    events: list[NewEvent] = []
    refunds: list[tuple[Located, Change]] = []
    opt_outs: list[tuple[Located, ChannelReceipt]] = []
    for message_id, indexes in by_message.items():
        row = rows[message_id]
        if row.status in PARK_WHILE:
            parked.update(indexes)
            continue
        change, reached = _settle(row, [items[i].receipt for i in indexes], now)
        changes.append(change)
        events.extend(_event(row, change, status, now) for status in reached)
        if any(status in ENDED for status in reached):
            if row.cost_micros:
                refunds.append((row, change))
            opt_outs.extend((row, items[i]) for i in indexes if _opted_out(items[i]))
    if changes:
        await repo.apply(changes, now)
    if events:
        await record_events(session, events)
    if opt_outs:
        await _record_opt_outs(session, opt_outs, now)
    for row, change in refunds:
        await _refund(session, row, change)
    moved = sum(1 for change in changes if change.status != rows[change.id].status)
    return Applied(frozenset(parked), moved)


def _lookup(item: ChannelReceipt) -> Lookup:
    return Lookup(
        item.tenant_id,
        item.channel_id,
        item.receipt.provider_message_id,
        _uuid(item.receipt.reference),
    )


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def _status_of(receipt: Receipt) -> str:
    """Provider statuses in Herald's words (``queued`` at a provider is Herald's ``sent``)."""
    if receipt.status is DeliveryStatus.queued:
        return S.sent.value
    return receipt.status.value


def _settle(row: Located, receipts: Sequence[Receipt], now: datetime) -> tuple[Change, list[str]]:
    """What the message becomes under its receipts, and the statuses it newly reached."""
    status = row.status
    reached: list[str] = []
    times: dict[str, datetime] = {}
    code = reason = None
    for receipt in sorted(receipts, key=lambda r: RANK.get(_status_of(r), 0)):
        new = _status_of(receipt)
        at = receipt.occurred_at or now
        times[new] = min(times.get(new, at), at)
        if not advances(status, new):
            continue
        if new == S.read and status not in REACHED:
            reached.append(S.delivered.value)
        reached.append(new)
        status = new
        if new in ENDED:
            code, reason = receipt.error_code, (receipt.error_reason or receipt.provider_status)
    ended_at = times.get(status) if status in ENDED else None
    change = Change(
        id=row.id,
        tenant_id=row.tenant_id,
        status=status,
        provider_message_id=receipts[0].provider_message_id,
        sent_at=times.get(S.sent.value),
        delivered_at=times.get(S.delivered.value) or times.get(S.read.value),
        read_at=times.get(S.read.value),
        failed_at=ended_at,
        error_code=(code or "")[:40] or None,
        error_reason=(reason or "")[:500] or None,
    )
    return change, [s for s in reached if s in EVENT_OF]


def _event(row: Located, change: Change, status: str, now: datetime) -> NewEvent:
    data: dict[str, Any] = {"status": status, "source": "receipt"}
    if status in ENDED and change.error_code:
        data.update(error_code=change.error_code, error_reason=change.error_reason)
    at = {
        S.sent.value: change.sent_at,
        S.delivered.value: change.delivered_at,
        S.read.value: change.read_at,
    }.get(status, change.failed_at)
    return NewEvent(
        tenant_id=row.tenant_id,
        type=EVENT_OF[status],
        message_id=row.id,
        contact_id=row.contact_id,
        campaign_id=row.campaign_id,
        data=data,
        occurred_at=at or now,
    )


def _opted_out(item: ChannelReceipt) -> bool:
    """The receipt ends the message because its recipient opted out at the provider."""
    return item.receipt.error_kind is ErrorKind.opted_out


async def _record_opt_outs(
    session: AsyncSession, opt_outs: Sequence[tuple[Located, ChannelReceipt]], now: datetime
) -> None:
    """Opt the recipients out of the receipts' media, so nothing more is attempted to them
    (the dispatch claim reads their standing): one statement for the batch's channels, one
    for the contacts and their proof."""
    channels = await ReceiptRepository(session).channels_of({i.channel_id for _, i in opt_outs})
    reported = []
    for row, item in opt_outs:
        if row.contact_id is None:
            continue
        kind, provider = channels[item.channel_id]
        details = {
            "error_code": item.receipt.error_code,
            "provider_status": item.receipt.provider_status,
            "message_id": str(row.id),
            "provider_message_id": item.receipt.provider_message_id,
        }
        source = f"{provider} receipt, error {item.receipt.error_code}"
        reported.append(ReportedOptOut(row.tenant_id, row.contact_id, kind, source, details))
    await record_reported_opt_outs(session, reported, now)


async def _refund(session: AsyncSession, row: Located, change: Change) -> None:
    """Give back what the message was charged, once: the key is dispatch's for the same
    message, so a second receipt, a replay or dispatch's own refund finds it done. Rare (a
    share of failures), so one call per message is fine on the batch path."""
    await refund(
        session,
        row.tenant_id,
        row.cost_micros or 0,
        reference_type="message",
        reference_id=row.id,
        idempotency_key=f"refund:message:{row.id}",
        reason=f"{change.error_code or 'undelivered'}: {change.error_reason or ''}",
    )
