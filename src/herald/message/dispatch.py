"""The dispatch engine: claims due messages, commits them ``sending``, calls the providers,
records what happened. One loop runs in every worker process, beside procrastinate's worker.

A batch is three steps, and the first commits before any provider is called:

1. **Claim** (one transaction, as the owner: the work spans tenants): lock due messages with
   ``FOR UPDATE SKIP LOCKED`` (paused channels and open circuits are left out by the query),
   take each channel's share of its caps in ``channel_send_windows`` (per second, minute and
   UTC day, one upsert per window shared by every worker process), price the granted ones
   (one price table per tenant, provider and medium per batch), mark them ``sending``
   (attempts + 1) and push the others to the next window. Commit.
2. **Send** with bounded concurrency over the worker's one aiohttp session.
3. **Record** (one transaction): one UPDATE for every outcome of the batch, one INSERT for the
   events, one UPDATE of health per channel, and an opt-out per recipient who opted out.

Never twice, never lost: a message is handed to a provider only once it is committed
``sending``; nothing moves a ``sending`` message back to ``queued``. If the worker dies between
steps 1 and 3, the message stays ``sending`` and ``reconcile`` settles it (see there).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Container, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import aiohttp
import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.budget import service as budgets
from herald.budget.service import BudgetStatus
from herald.channel import service as channels
from herald.channel.models import Channel, ChannelStatus
from herald.channel.repository import Breaker
from herald.channel.service import daily_cap
from herald.contact.models import ChannelKind, ConsentMethod, ConsentStatus
from herald.contact.schemas import ConsentChange
from herald.contact.service import change_consent
from herald.cost.pricing import PriceTable
from herald.cost.service import country_of_phone, load_price_table
from herald.kit.context import SYSTEM
from herald.kit.database import Database
from herald.kit.errors import HeraldError
from herald.kit.models import utcnow
from herald.message.dispatch_models import WindowSpan
from herald.message.dispatch_repository import (
    Claimed,
    DispatchRepository,
    Outcome,
    Sendable,
)
from herald.message.receipts import status_url
from herald.message.repository import NewEvent, record_events
from herald.providers.base import (
    Accepted,
    Failed,
    OptedOut,
    OutboundMessage,
    ProviderConfig,
    RetryLater,
    SendResult,
    WhatsAppTemplate,
)
from herald.providers.registry import PROVIDERS
from herald.settings import get_settings
from herald.sms.encoding import inspect
from herald.wallet.service import refund, reserve_many

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DispatchPolicy:
    """The engine's knobs; the defaults suit one worker process on a small machine."""

    batch_size: int = 500
    lanes: int = 2
    """Batches in progress at once per process (each holds one database connection while it
    claims or records)."""
    concurrency: int = 128
    """Provider calls in flight per lane (the HTTP connector allows every lane's)."""
    idle_seconds: float = 0.2
    """How long an idle loop waits before looking for due messages again."""
    max_attempts: int = 8
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    breaker_threshold: int = 5
    """Transient failures in a row that open a channel's circuit."""
    probe_interval: float = 30.0
    """How long an open circuit waits before letting one message through as a probe."""
    in_doubt_after: float = 900.0
    """A message ``sending`` for longer is settled by ``reconcile``. It must exceed the longest
    a claimed message can legitimately wait for its answer: its batch's turns through its
    lane's semaphore (``batch_size / concurrency`` = 4) times the longest provider timeout
    (``ProviderConfig.timeout_seconds`` ≤ 120 s), or a late answer would find it settled."""


@dataclass(frozen=True, slots=True)
class Job:
    """One granted message with what its send needs, and its price once priced."""

    message: Claimed
    channel: Channel
    config: ProviderConfig
    cost_micros: int | None = None
    currency: str | None = None


CHANNEL_UNUSABLE = "channel_unusable"
ERROR_PAUSE_SECONDS = 1.0
"""After a failed batch (the database went away), before the next try: one log line a
second, not a busy loop."""
UNPAID_RETRY = timedelta(minutes=1)
PAUSE_CHECK_SECONDS = 0.5
TENANT_PAUSED = RetryLater(
    code="tenant_paused",
    reason="the tenant paused all sending after this message was claimed; sent after resuming",
)
"""A claimed message held back by the kill switch: queued again, due at once (the claim
skips a paused tenant); its charge is kept under its key, so the resumed send is not charged
twice."""


@dataclass(frozen=True, slots=True)
class Batch:
    jobs: list[Job]
    not_before: datetime
    """When the sends may go out: the claim's time, or the start of the next second for a late
    batch its current second has no room for (see ``_room_now``)."""


LATE_IN_SECOND = timedelta(milliseconds=500)
"""Past this point of a second, a batch is granted the next second and waits for it: sends
counted in a second's window go out in its first half, so they reach the provider within that
second unless a call takes longer than half a second to arrive. The window table counts
grants exactly; the provider's clock sees arrivals. A late batch whose current second still
has room goes out at once, counted in both seconds (``_room_now``)."""


async def run_dispatcher(
    db: Database, http: aiohttp.ClientSession, stop: asyncio.Event, policy: DispatchPolicy
) -> None:
    """Dispatch until ``stop`` is set, in ``policy.lanes`` loops sharing the HTTP session: one
    lane's claim and record overlap another's provider calls (``SKIP LOCKED`` keeps their
    batches apart)."""
    await asyncio.gather(*(_lane(db, http, stop, policy) for _ in range(policy.lanes)))


async def _lane(
    db: Database, http: aiohttp.ClientSession, stop: asyncio.Event, policy: DispatchPolicy
) -> None:
    """One batch after another; an error in one batch is logged and the lane goes on (its
    messages stay ``queued`` or ``sending`` and are picked up or reconciled)."""
    while not stop.is_set():
        try:
            handled = await dispatch_once(db, http, policy)
        except Exception:
            log.exception("dispatch.batch_failed")
            await asyncio.sleep(ERROR_PAUSE_SECONDS)
            continue
        if not handled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), policy.idle_seconds)


async def dispatch_once(db: Database, http: aiohttp.ClientSession, policy: DispatchPolicy) -> int:
    """One batch: claim, send, record. Returns how many messages were claimed."""
    async with db.system_session() as session:
        claimed, batch = await claim_batch(session, policy, utcnow())
    if batch.jobs:
        paused: set[UUID] = set()
        async with _watching_pauses(db, batch.jobs, paused):
            wait = (batch.not_before - utcnow()).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            results = await send_all(http, batch.jobs, policy.concurrency, held=paused)
        async with db.system_session() as session:
            await record_results(session, batch.jobs, results, policy, utcnow())
    return claimed


@contextlib.asynccontextmanager
async def _watching_pauses(
    db: Database, jobs: Sequence[Job], paused: set[UUID]
) -> AsyncIterator[None]:
    """While a claimed batch is waiting or in flight, re-read its tenants' kill switch every
    ``PAUSE_CHECK_SECONDS`` into ``paused``. A batch can outlast the switch's two-second promise
    (``batch_size / concurrency`` turns of a slow provider), and the claim only checked the
    switch once; the check costs nothing to a batch that ends sooner."""
    tenants = list({job.message.tenant_id for job in jobs})

    async def watch() -> None:
        while True:
            await asyncio.sleep(PAUSE_CHECK_SECONDS)
            try:
                async with db.system_session() as session:
                    paused.update(await DispatchRepository(session).paused_among(tenants))
            except Exception:  # the batch's record step must still run: log, look again
                log.exception("dispatch.pause_check_failed")

    watcher = asyncio.create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


# --- 1. claim -------------------------------------------------------------------------------


async def claim_batch(
    session: AsyncSession, policy: DispatchPolicy, now: datetime
) -> tuple[int, Batch]:
    repo = DispatchRepository(session)
    claimed = await repo.claim(policy.batch_size, now)
    at = send_time(now)
    if not claimed:
        return 0, Batch([], at)
    await _fail_refused(repo, [m for m in claimed if m.refusal is not None], now)
    by_channel: dict[UUID, list[Claimed]] = defaultdict(list)
    for message in claimed:
        if message.refusal is None:
            by_channel[message.channel_id].append(message)
    channels = {c.id: c for c in await repo.channels(list(by_channel))}
    granted: list[Job] = []
    not_before = now
    for channel_id, messages in by_channel.items():
        channel = channels[channel_id]
        config = _config_of(channel)
        if isinstance(config, str):
            await _fail_unsent(repo, messages, config, now)
            continue
        room_now = await _room_now(repo, channel, len(messages), now, at)
        allowed = await _grant(repo, channel, messages, policy, at)
        if allowed and at > now and room_now < len(allowed):
            not_before = at
        granted.extend(Job(m, channel, config) for m in allowed)
    priced = await _price(session, granted, now)
    jobs = await _reserve(session, repo, priced, now)
    if jobs:
        await repo.mark_sending(
            [Sendable(j.message.id, j.message.tenant_id, j.cost_micros, j.currency) for j in jobs],
            now,
        )
    return len(claimed), Batch(jobs, not_before)


def _config_of(channel: Channel) -> ProviderConfig | str:
    """The channel's validated provider config, or why it cannot send (fix the channel)."""
    provider = PROVIDERS.get(channel.provider)
    if provider is None:
        return f"channel {channel.id} names an unknown provider {channel.provider!r}"
    try:
        return provider.config_schema.model_validate(channel.config)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        return f"channel {channel.id} has an invalid {channel.provider} config ({fields}); fix it"


async def _fail_unsent(
    repo: DispatchRepository, messages: Sequence[Claimed], reason: str, now: datetime
) -> None:
    """Fail messages that can never be sent as things stand, before any provider call."""
    await repo.fail_queued(messages, CHANNEL_UNUSABLE, reason, now)
    data = {"error_code": CHANNEL_UNUSABLE, "error_reason": reason}
    events = [
        _event(m.tenant_id, "failed", m.id, m.contact_id, m.campaign_id, data, now)
        for m in messages
    ]
    await record_events(repo.session, events)


REFUSALS = {
    "opted_out": "the recipient opted out of this channel after the message was queued",
    "do_not_contact": "the recipient's number was put on the do-not-contact list",
    "blocked": "the contact was blocked after the message was queued",
    "erased": "the contact was erased at the person's request",
}


async def _fail_refused(
    repo: DispatchRepository, refused: Sequence[Claimed], now: datetime
) -> None:
    """Fail claimed messages whose recipient may no longer be messaged, without calling the
    provider: one statement per reason (four at most) and one for the events."""
    by_reason: dict[str, list[Claimed]] = defaultdict(list)
    for message in refused:
        by_reason[message.refusal or ""].append(message)
    events: list[NewEvent] = []
    for code, messages in by_reason.items():
        reason = REFUSALS.get(code, code)
        await repo.fail_queued(messages, code, reason, now)
        data = {"error_code": code, "error_reason": reason}
        events.extend(
            _event(m.tenant_id, "failed", m.id, m.contact_id, m.campaign_id, data, now)
            for m in messages
        )
    if events:
        await record_events(repo.session, events)


def send_time(now: datetime) -> datetime:
    """When a batch claimed at ``now`` is sent: now, or the next second if this one is
    nearly over (see ``LATE_IN_SECOND``)."""
    start = window_start(WindowSpan.second, now)
    return now if now - start < LATE_IN_SECOND else start + timedelta(seconds=1)


async def _grant(
    repo: DispatchRepository,
    channel: Channel,
    messages: list[Claimed],
    policy: DispatchPolicy,
    now: datetime,
) -> list[Claimed]:
    """The messages the channel may send at ``now`` (the batch's send time); the others wait
    for the next window."""
    wanted = len(messages)
    if channel.status is ChannelStatus.failing:
        wanted = 1
        await repo.hold_probe(channel.id, now + timedelta(seconds=policy.probe_interval))
    for span, cap in caps_of(channel, now):
        if wanted == 0:
            break
        wanted = await repo.reserve(channel.id, span, window_start(span, now), cap, wanted)
    waiting = messages[wanted:]
    if waiting:
        await repo.postpone(waiting, _next_window(channel, now, policy), now)
    return messages[:wanted]


async def _room_now(
    repo: DispatchRepository, channel: Channel, wanted: int, now: datetime, at: datetime
) -> int:
    """For a late batch (granted the next second ``at``): how many of its ``wanted`` sends the
    current second's window also takes. Those may go out at once instead of waiting for ``at``,
    each counted in both seconds it can reach the provider in; the minute and day windows hold
    them wherever they land when both seconds are in one minute (else 0: it waits). Reserved
    before the next second's windows, so every worker locks window rows in one order (earlier
    second, later second, minute, day); what the grant then leaves unused only spares the
    current second's last moments. A failing channel's probe simply waits. 0 when not late."""
    if at <= now or channel.status is ChannelStatus.failing:
        return 0
    if window_start(WindowSpan.minute, now) != window_start(WindowSpan.minute, at):
        return 0
    second = window_start(WindowSpan.second, now)
    cap = channel.rate_per_second
    return await repo.reserve(channel.id, WindowSpan.second, second, cap, wanted)


def caps_of(channel: Channel, now: datetime) -> list[tuple[WindowSpan, int]]:
    """The channel's caps, finest window first: a grant cut by a coarser window only leaves
    the finer one over-reserved (fewer sends that second), never the day over-counted."""
    caps = [(WindowSpan.second, channel.rate_per_second)]
    if channel.rate_per_minute is not None:
        caps.append((WindowSpan.minute, channel.rate_per_minute))
    day = daily_cap(channel, now.date())
    if day is not None:
        caps.append((WindowSpan.day, day))
    return caps


def window_start(span: WindowSpan, now: datetime) -> datetime:
    if span is WindowSpan.second:
        return now.replace(microsecond=0)
    if span is WindowSpan.minute:
        return now.replace(second=0, microsecond=0)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _next_window(channel: Channel, now: datetime, policy: DispatchPolicy) -> datetime:
    if channel.status is ChannelStatus.failing:
        return now + timedelta(seconds=policy.probe_interval)
    return window_start(WindowSpan.second, now) + timedelta(seconds=1)


async def _price(session: AsyncSession, jobs: Sequence[Job], now: datetime) -> list[Job]:
    """Price every granted message, loading one price table per tenant, provider and medium.
    A message no price applies to goes unpriced (cost empty, nothing reserved), and so does a
    compliance reply: its cost is Herald's, so money never holds it back."""
    tables: dict[tuple[UUID, str, ChannelKind], PriceTable] = {}
    priced = []
    for job in jobs:
        if job.message.compliance:
            priced.append(job)
            continue
        key = (job.message.tenant_id, job.channel.provider, job.channel.kind)
        if key not in tables:
            tables[key] = await load_price_table(session, *key, at=now)
        cost, currency = _cost(tables[key], job.message, _segments(job))
        priced.append(replace(job, cost_micros=cost, currency=currency))
    return priced


def _segments(job: Job) -> int:
    """What the message costs in units: the segments counted when it was queued, else those
    of its body as it will be sent (an SMS); one for a WhatsApp message."""
    message = job.message
    if message.segments:
        return message.segments
    if job.channel.kind is ChannelKind.sms and message.body:
        return inspect(message.body).segments
    return 1


def _cost(table: PriceTable, message: Claimed, units: int) -> tuple[int | None, str | None]:
    try:
        country = country_of_phone(message.to_address or "")
        price = table.price(country, units)
    except HeraldError:
        return None, None
    return price.total_micros, price.currency


async def _reserve(
    session: AsyncSession, repo: DispatchRepository, jobs: Sequence[Job], now: datetime
) -> list[Job]:
    """Spend the budget and reserve the priced messages' costs: per tenant of the batch, one
    budget statement, then one ``reserve_many`` for what the budget let through, in the claim's
    transaction. What a budget holds back waits for its reset (``_within_budget``); the ones a
    prepaid balance does not cover stay queued, with the reason, and are tried again after
    ``UNPAID_RETRY`` (a top-up resumes them; they never fail for it), their budget given back.
    The key is the message's, so a retried send is never charged twice."""
    by_tenant: dict[UUID, list[Job]] = defaultdict(list)
    for job in jobs:
        if job.cost_micros:
            by_tenant[job.message.tenant_id].append(job)
    unpaid: set[UUID] = set()
    held: set[UUID] = set()
    for tenant_id, priced in by_tenant.items():
        charged, counted = await _within_budget(repo, tenant_id, priced, now)
        held.update({j.message.id for j in priced} - {j.message.id for j in charged})
        items = [(j.message.id, j.cost_micros or 0, _charge_key(j.message.id)) for j in charged]
        batch = await reserve_many(session, tenant_id, items)
        uncovered = {item.reference_id: item.amount for item in batch.uncovered}
        unpaid.update(uncovered)
        await budgets.give_back(session, tenant_id, sum(uncovered.get(i, 0) for i in counted))
    if unpaid:
        waiting = [j.message for j in jobs if j.message.id in unpaid]
        await repo.postpone(
            waiting,
            now + UNPAID_RETRY,
            now,
            code="insufficient_credits",
            reason="the prepaid balance does not cover this message; top up the wallet",
        )
    return [j for j in jobs if j.message.id not in unpaid and j.message.id not in held]


async def _within_budget(
    repo: DispatchRepository, tenant_id: UUID, jobs: list[Job], now: datetime
) -> tuple[list[Job], set[UUID]]:
    """The jobs the tenant's budget lets through, in order, and the ids that spent it. Only a
    first attempt spends (a retry was counted when it was first sent). The ones past a limit
    stay queued, untried, until the limit's reset, with the limit as the reason: raising the
    budget releases them sooner (``herald.budget.service.set_budget``)."""
    first = [j for j in jobs if j.message.attempts == 0]
    allowance = await budgets.spend(
        repo.session, tenant_id, [j.cost_micros or 0 for j in first], now
    )
    if allowance is None:
        return jobs, set()
    over = first[allowance.count :]
    if over and allowance.held is not None and allowance.until is not None:
        limit = "daily" if allowance.held is BudgetStatus.daily_budget_reached else "monthly"
        await repo.postpone(
            [j.message for j in over],
            allowance.until,
            now,
            code=allowance.held.value,
            reason=f"the {limit} budget is reached; sent at its reset or when it is raised",
        )
    skipped = {j.message.id for j in over}
    counted = {j.message.id for j in first[: allowance.count]}
    return [j for j in jobs if j.message.id not in skipped], counted


def _charge_key(message_id: UUID) -> str:
    return f"message:{message_id}"


# --- 2. send --------------------------------------------------------------------------------


async def send_all(
    http: aiohttp.ClientSession,
    jobs: Sequence[Job],
    concurrency: int,
    held: Container[UUID] = frozenset(),
) -> list[SendResult | None]:
    """Every job's result, in order; ``None`` where the adapter raised (outcome unknown). A
    job of a tenant in ``held`` (paused meanwhile) not yet handed over is not sent: it is
    queued again as ``TENANT_PAUSED``."""
    slots = asyncio.Semaphore(concurrency)

    async def one(job: Job) -> SendResult | None:
        async with slots:
            if job.message.tenant_id in held:
                return TENANT_PAUSED
            try:
                return await PROVIDERS[job.channel.provider].send(http, job.config, outbound(job))
            except Exception:
                log.exception("dispatch.send_raised", message_id=str(job.message.id))
                return None

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def outbound(job: Job) -> OutboundMessage:
    message = job.message
    return OutboundMessage(
        to=message.to_address or "",
        sender=job.channel.sender,
        reference=str(message.id),
        kind=job.channel.kind,
        body=message.body,
        template=_template(message.template),
        status_callback_url=status_url(
            get_settings().base_url, job.channel.provider, job.channel.id
        ),
    )


def _template(template: dict[str, Any] | None) -> WhatsAppTemplate | None:
    """The stored template as the Cloud API takes it: its components when they were stored,
    else one body component of the positional parameters."""
    if not template:
        return None
    components = template.get("components")
    if components is None:
        values = template.get("parameters") or []
        parameters = [{"type": "text", "text": str(value)} for value in values]
        components = [{"type": "body", "parameters": parameters}] if parameters else []
    return WhatsAppTemplate(str(template["name"]), str(template["language"]), list(components))


# --- 3. record ------------------------------------------------------------------------------


async def record_results(
    session: AsyncSession,
    jobs: Sequence[Job],
    results: Sequence[SendResult | None],
    policy: DispatchPolicy,
    now: datetime,
) -> None:
    repo = DispatchRepository(session)
    outcomes = [
        outcome_of(job.message, result, policy, now)
        for job, result in zip(jobs, results, strict=True)
    ]
    await repo.record(outcomes, now)
    events = [
        event
        for job, outcome in zip(jobs, outcomes, strict=True)
        for event in _events(job, outcome, now)
    ]
    if events:
        await record_events(repo.session, events)
    await _health(repo, jobs, results, policy, now)
    await _opt_out(session, jobs, results)
    await _refund(session, jobs, outcomes)


async def _refund(session: AsyncSession, jobs: Sequence[Job], outcomes: Sequence[Outcome]) -> None:
    """Give back what a failed message reserved, once (the refund's key is the message's).
    An ``unknown`` message is not refunded: the provider may have sent it."""
    for job, outcome in zip(jobs, outcomes, strict=True):
        if outcome.status != "failed" or not job.cost_micros:
            continue
        await refund(
            session,
            job.message.tenant_id,
            job.cost_micros,
            reference_type="message",
            reference_id=job.message.id,
            idempotency_key=f"refund:{_charge_key(job.message.id)}",
            reason=f"{outcome.error_code}: {outcome.error_reason}",
        )


def outcome_of(
    message: Claimed, result: SendResult | None, policy: DispatchPolicy, now: datetime
) -> Outcome:
    attempts = message.attempts + 1
    if isinstance(result, Accepted):
        return Outcome(
            message.id,
            message.tenant_id,
            "sent",
            provider_message_id=result.provider_message_id,
            segments=result.segments,
        )
    if result is TENANT_PAUSED:  # not an attempt at all: due again once resumed
        return Outcome(
            message.id,
            message.tenant_id,
            "queued",
            None,
            result.code,
            result.reason,
            now,
            attempted=False,
        )
    if isinstance(result, RetryLater):
        if attempts >= policy.max_attempts:
            reason = f"gave up after {attempts} attempts: {result.reason}"
            return Outcome(message.id, message.tenant_id, "failed", None, result.code, reason[:500])
        retry_at = now + timedelta(seconds=backoff(attempts, result.retry_after, policy))
        return Outcome(
            message.id,
            message.tenant_id,
            "queued",
            None,
            result.code,
            result.reason[:500],
            retry_at,
        )
    if isinstance(result, Failed | OptedOut):
        return Outcome(
            message.id, message.tenant_id, "failed", None, result.code, result.reason[:500]
        )
    return Outcome(
        message.id,
        message.tenant_id,
        "unknown",
        None,
        "in_doubt",
        "the send raised before the provider's answer was read; not resent",
    )


def backoff(attempts: int, retry_after: float | None, policy: DispatchPolicy) -> float:
    """Exponential with full jitter over its upper half, never sooner than the provider asked."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** (attempts - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def _event(
    tenant_id: UUID,
    kind: str,
    message_id: UUID,
    contact_id: UUID | None,
    campaign_id: UUID | None,
    data: dict[str, Any],
    now: datetime,
) -> NewEvent:
    return NewEvent(
        tenant_id=tenant_id,
        type=kind,
        message_id=message_id,
        contact_id=contact_id,
        campaign_id=campaign_id,
        data=data,
        occurred_at=now,
    )


def _events(job: Job, outcome: Outcome, now: datetime) -> list[NewEvent]:
    types = {"sent": "sent", "failed": "failed"}
    kind = types.get(outcome.status)
    if kind is None:
        return []
    data: dict[str, Any] = {"attempts": job.message.attempts + 1}
    if outcome.provider_message_id:
        data["provider_message_id"] = outcome.provider_message_id
    if outcome.error_code:
        data.update(error_code=outcome.error_code, error_reason=outcome.error_reason)
    message = job.message
    return [
        _event(
            message.tenant_id, kind, message.id, message.contact_id, message.campaign_id, data, now
        )
    ]


async def _health(
    repo: DispatchRepository,
    jobs: Sequence[Job],
    results: Sequence[SendResult | None],
    policy: DispatchPolicy,
    now: datetime,
) -> None:
    """Per channel of the batch: successes close its circuit, transient failures count
    towards opening it. A permanent failure or an opt-out is about a recipient, not the
    provider, so it counts neither way."""
    tally: dict[UUID, list[int]] = defaultdict(lambda: [0, 0])
    reasons: dict[UUID, str] = {}
    for job, result in zip(jobs, results, strict=True):
        counts = tally[job.channel.id]
        if isinstance(result, Accepted):
            counts[0] += 1
        elif isinstance(result, RetryLater) and result is not TENANT_PAUSED:
            counts[1] += 1
            reasons[job.channel.id] = f"{result.code}: {result.reason}"[:500]
    breaker = Breaker(policy.breaker_threshold, policy.probe_interval)
    for channel_id, (ok, failed) in tally.items():
        if ok:
            await channels.record_success(repo.session, channel_id, now)
        elif failed:
            reason = reasons[channel_id]
            await channels.record_failure(
                repo.session, channel_id, now, reason, count=failed, breaker=breaker
            )


async def _opt_out(
    session: AsyncSession, jobs: Sequence[Job], results: Sequence[SendResult | None]
) -> None:
    """The provider says the recipient opted out: record it as the contact's consent on that
    medium, with the provider's code as its source (rare: one contact at a time is fine)."""
    for job, result in zip(jobs, results, strict=True):
        if not isinstance(result, OptedOut) or job.message.contact_id is None:
            continue
        change = ConsentChange(
            channel=job.channel.kind,
            status=ConsentStatus.opted_out,
            method=ConsentMethod.integration,
            source=f"{job.channel.provider} error {result.code}"[:200],
        )
        try:
            async with session.begin_nested():
                await change_consent(
                    session, job.message.tenant_id, job.message.contact_id, change, SYSTEM
                )
        except HeraldError as exc:  # e.g. the contact was erased meanwhile: nothing to mark
            log.warning(
                "dispatch.opt_out_not_recorded", message_id=str(job.message.id), error=str(exc)
            )


# --- reconciling in-doubt sends ---------------------------------------------------------------


async def reconcile(session: AsyncSession, policy: DispatchPolicy, now: datetime) -> int:
    """Settle messages left ``sending`` longer than ``policy.in_doubt_after``: a worker was
    killed (or lost its connection) between handing them to the provider and recording the
    answer, so whether the provider accepted them is not known.

    Policy: such a message is never resent blindly. A provider lookup needs the provider's
    message id, which is exactly what a crashed send never recorded, and no adapter can look a
    message up by Herald's reference; so the message becomes ``unknown`` with a reason and an
    event. A delivery receipt that arrives later (the adapters pass Herald's id as the
    reference where the provider echoes it) can still move it forward.
    Also sweeps cap windows older than two days (a day window must outlive its day). Returns
    how many messages were settled.
    """
    repo = DispatchRepository(session)
    cutoff = now - timedelta(seconds=policy.in_doubt_after)
    reason = (
        "in doubt: the worker stopped after handing the message to the provider and before "
        "recording its answer; not resent"
    )
    settled = await repo.mark_stuck_unknown(cutoff, reason, now)
    if settled:
        data = {"status": "unknown", "reason": reason}
        events = [_event(t, "failed", m, c, k, data, now) for m, t, c, k in settled]
        await record_events(repo.session, events)
    await repo.sweep_windows(now - timedelta(days=2))
    return len(settled)
