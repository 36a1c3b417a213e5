"""Campaigns: drafts and their variants, the status machine and its actions, the launch's
refusals, and the figures (stats, preflight, report, export) counted from the messages.

draft → scheduled → running → completed, with paused, cancelled and failed beside them.
Services never commit; a launch is one transaction with the status change, so a refused or
failed launch leaves the campaign as it was and no message behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.campaign import launch as launching
from herald.campaign.audience import REASONS
from herald.campaign.automation_rules import Recurrence
from herald.campaign.automation_rules import first_run as first_recurring_run
from herald.campaign.content import Composed, Composer, compose
from herald.campaign.models import (
    Campaign,
    CampaignMode,
    CampaignStatus,
    CampaignStep,
    CampaignVariant,
)
from herald.campaign.repository import CampaignRepository, CampaignSweeps
from herald.campaign.schemas import (
    LABELS,
    Audience,
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    Preflight,
    Report,
    Schedule,
    Stats,
    StepIn,
    StepRead,
    VariantFigures,
    VariantIn,
    VariantRead,
    shape_problem,
)
from herald.contact.models import ChannelKind
from herald.kit.database import Database
from herald.kit.errors import Conflict, HeraldError, NotFound, Unprocessable
from herald.kit.models import utcnow
from herald.kit.pagination import PageParams, Slice
from herald.kit.phone import PhoneError, parse_phone
from herald.segment.service import get_segment
from herald.template.service import record_use
from herald.tenant.models import Tenant
from herald.tenant.service import get_tenant
from herald.wallet.models import BillingMode
from herald.wallet.service import get_wallet
from herald.whatsapp.models import TemplateStatus

S = CampaignStatus
MOVES: dict[str, tuple[frozenset[CampaignStatus], str]] = {
    "send": (frozenset({S.draft, S.scheduled}), "draft or scheduled"),
    "schedule": (frozenset({S.draft, S.scheduled}), "draft or scheduled"),
    "edit": (frozenset({S.draft, S.scheduled}), "draft or scheduled"),
    "delete": (frozenset({S.draft}), "a draft"),
    "pause": (frozenset({S.running, S.scheduled}), "running or scheduled"),
    "resume": (frozenset({S.paused}), "paused"),
    "cancel": (frozenset({S.draft, S.scheduled, S.running, S.paused}), "not yet finished"),
}
EARLIEST_ZONE = timedelta(hours=14)
"""The furthest ahead of UTC any zone runs (Pacific/Kiritimati): a "local time" schedule is
launched when the first recipient could reach that wall-clock time."""


def _check_move(campaign: Campaign, action: str) -> None:
    allowed, wording = MOVES[action]
    if campaign.status not in allowed:
        raise Conflict(
            f"Campaign {campaign.id} is {campaign.status.value}; '{action}' needs it {wording}.",
            current_status=campaign.status.value,
        )


# --- drafts ---------------------------------------------------------------------------------


async def get_campaign(
    session: AsyncSession, tenant_id: UUID, campaign_id: UUID, *, for_update: bool = False
) -> Campaign:
    found = await CampaignRepository(session).get(tenant_id, campaign_id, for_update=for_update)
    if found is None:
        raise NotFound(f"No campaign {campaign_id} in this account.")
    return found


async def _audience(session: AsyncSession, tenant: Tenant, audience: Audience) -> dict[str, Any]:
    """The audience as stored: ids as text, a segment that exists, numbers in E.164 (read in
    the tenant's country), each once, with how many were invalid or repeated."""
    if audience.segment_id is not None:
        await get_segment(session, tenant.id, audience.segment_id)
    stored = audience.model_dump(mode="json", exclude_none=True)
    if audience.phones is not None:
        numbers, invalid = [], 0
        for raw in audience.phones:
            try:
                numbers.append(parse_phone(raw, tenant.country))
            except PhoneError:
                invalid += 1
        unique = list(dict.fromkeys(numbers))
        stored = {
            "phones": unique,
            "invalid_numbers": invalid,
            "duplicate_numbers": len(numbers) - len(unique),
        }
    return stored


def _variants(campaign: Campaign, given: Sequence[VariantIn]) -> list[CampaignVariant]:
    return [
        CampaignVariant(
            tenant_id=campaign.tenant_id,
            campaign_id=campaign.id,
            label=LABELS[n],
            share_percent=v.share_percent,
            position=n,
            **v.columns(),
        )
        for n, v in enumerate(given)
    ]


def _steps(campaign: Campaign, given: Sequence[StepIn]) -> list[CampaignStep]:
    return [
        CampaignStep(
            tenant_id=campaign.tenant_id,
            campaign_id=campaign.id,
            position=n,
            delay_minutes=step.delay_minutes,
            **step.columns(),
        )
        for n, step in enumerate(given)
    ]


async def _check_content(session: AsyncSession, tenant: Tenant, campaign: Campaign) -> None:
    """422 now, not at launch, for content that cannot be composed (a drip step's content is
    composed as a variant would be)."""
    repo = CampaignRepository(session)
    variants = await repo.variants(tenant.id, campaign.id)
    composer = Composer(tenant, campaign)
    await compose(session, composer, variants)
    steps = await repo.steps(tenant.id, campaign.id)
    await compose(session, composer, [_as_variant(step) for step in steps])


def _as_variant(step: CampaignStep) -> CampaignVariant:
    return CampaignVariant(
        tenant_id=step.tenant_id,
        campaign_id=step.campaign_id,
        label=LABELS[0],
        share_percent=100,
        position=step.position,
        **_content_of(step),
    )


def _content_of(row: CampaignVariant | CampaignStep) -> dict[str, Any]:
    """What a variant or a step says, to give another row."""
    return {
        "body": row.body,
        "template_id": row.template_id,
        "whatsapp_template_id": row.whatsapp_template_id,
        "params": dict(row.params),
    }


async def create_campaign(
    session: AsyncSession, tenant_id: UUID, data: CampaignCreate, created_by: str | None
) -> Campaign:
    tenant = await get_tenant(session, tenant_id)
    campaign = Campaign(
        tenant_id=tenant_id,
        name=data.name,
        channel_id=data.channel_id,
        sender_pool_id=data.sender_pool_id,
        purpose=data.purpose,
        audience=await _audience(session, tenant, data.audience),
        exclusions=(data.exclusions.model_dump(mode="json") if data.exclusions else {}),
        target_url=data.target_url,
        discount_code=data.discount_code,
        schedule=data.schedule.model_dump(mode="json") if data.schedule else None,
        quiet_hours=data.quiet_hours.model_dump() if data.quiet_hours else None,
        frequency_cap=data.frequency_cap.model_dump() if data.frequency_cap else None,
        mode=data.mode,
        ab=data.ab.model_dump(mode="json") if data.ab else None,
        created_by=created_by,
    )
    senders = await launching.senders_of(session, campaign)
    campaign.kind = senders[0].kind
    if data.schedule is not None and data.schedule.type != "now":
        campaign.status = S.scheduled
        campaign.next_run_at = first_run(data.schedule, tenant.timezone, utcnow())
    repo = CampaignRepository(session)
    repo.add(campaign)
    await session.flush()
    await repo.replace_variants(tenant_id, campaign.id, _variants(campaign, data.variant_list()))
    await repo.replace_steps(tenant_id, campaign.id, _steps(campaign, data.steps or []))
    await _check_content(session, tenant, campaign)
    return campaign


async def update_campaign(
    session: AsyncSession, tenant_id: UUID, campaign_id: UUID, data: CampaignUpdate
) -> Campaign:
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    _check_move(campaign, "edit")
    tenant = await get_tenant(session, tenant_id)
    sent = data.model_dump(exclude_unset=True, mode="json")
    if data.audience is not None:
        campaign.audience = await _audience(session, tenant, data.audience)
    for field in ("name", "target_url", "discount_code", "quiet_hours", "frequency_cap"):
        if field in sent:
            setattr(campaign, field, sent[field])
    if "exclusions" in sent:
        campaign.exclusions = sent["exclusions"] or {}
    if "mode" in sent:
        campaign.mode = data.mode or CampaignMode.broadcast
    if "ab" in sent:
        campaign.ab = sent["ab"]
    repo = CampaignRepository(session)
    if data.variants is not None:
        await repo.replace_variants(tenant_id, campaign.id, _variants(campaign, data.variants))
    if data.steps is not None:
        await repo.replace_steps(tenant_id, campaign.id, _steps(campaign, data.steps))
    await session.flush()
    await _check_shape(session, campaign)
    await _check_content(session, tenant, campaign)
    return campaign


async def _check_shape(session: AsyncSession, campaign: Campaign) -> None:
    """The create body's rules on mode, variants, steps, A/B test and recurrence, for a
    campaign as a change (or a new schedule) leaves it."""
    repo = CampaignRepository(session)
    variants = await repo.variants(campaign.tenant_id, campaign.id)
    steps = await repo.steps(campaign.tenant_id, campaign.id)
    kind = (campaign.schedule or {}).get("type")
    problem = shape_problem(
        campaign.mode, len(variants), len(steps), campaign.ab is not None, kind == "recurring"
    )
    if problem is not None:
        raise Unprocessable(f"Campaign {campaign.id}: {problem}.")


async def delete_campaign(session: AsyncSession, tenant_id: UUID, campaign_id: UUID) -> None:
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    _check_move(campaign, "delete")
    await CampaignRepository(session).delete(campaign)


async def list_campaigns(
    session: AsyncSession, tenant_id: UUID, status: CampaignStatus | None, params: PageParams
) -> Slice[Campaign]:
    return await CampaignRepository(session).listing(tenant_id, status, params)


async def read_campaign(session: AsyncSession, tenant_id: UUID, campaign_id: UUID) -> CampaignRead:
    """The campaign, its variants and its stats; a running broadcast with nothing left to send
    is completed on the way (the periodic sweep does the same for campaigns nobody reads)."""
    campaign = await get_campaign(session, tenant_id, campaign_id)
    repo = CampaignRepository(session)
    stats = await repo.stats(tenant_id, campaign_id)
    finished = stats.queued == 0 and stats.sending == 0 and not _awaiting_winner(campaign)
    if campaign.status is S.running and campaign.mode is CampaignMode.broadcast and finished:
        campaign.status = S.completed
        campaign.completed_at = utcnow()
        await session.flush()
    return await present(session, campaign, stats)


def _awaiting_winner(campaign: Campaign) -> bool:
    """An A/B test still to decide: the rest of the audience has not been sent to yet."""
    return campaign.ab is not None and campaign.ab.get("decided_at") is None


async def present(
    session: AsyncSession, campaign: Campaign, stats: Stats | None = None
) -> CampaignRead:
    repo = CampaignRepository(session)
    variants = await repo.variants(campaign.tenant_id, campaign.id)
    steps = await repo.steps(campaign.tenant_id, campaign.id)
    read = CampaignRead.model_validate(campaign)
    read.variants = [VariantRead.model_validate(v) for v in variants]
    read.steps = [StepRead.model_validate(step) for step in steps]
    read.stats = stats
    return read


async def duplicate_campaign(
    session: AsyncSession, tenant_id: UUID, campaign_id: UUID, created_by: str | None
) -> Campaign:
    """A new draft with the same settings and variants (status, schedule and runs reset)."""
    source = await get_campaign(session, tenant_id, campaign_id)
    copied = {
        name: getattr(source, name)
        for name in (
            "kind",
            "channel_id",
            "sender_pool_id",
            "purpose",
            "mode",
            "audience",
            "exclusions",
            "target_url",
            "discount_code",
            "ab",
            "quiet_hours",
            "frequency_cap",
        )
    }
    copy = Campaign(tenant_id=tenant_id, name=f"{source.name} (copy)"[:200], **copied)
    copy.created_by = created_by
    if copy.ab:
        copy.ab = {k: v for k, v in copy.ab.items() if k not in ("winner_variant_id", "decided_at")}
    repo = CampaignRepository(session)
    repo.add(copy)
    await session.flush()
    variants = await repo.variants(tenant_id, campaign_id)
    await repo.replace_variants(
        tenant_id,
        copy.id,
        [
            CampaignVariant(
                tenant_id=tenant_id,
                campaign_id=copy.id,
                label=v.label,
                share_percent=v.share_percent,
                position=v.position,
                **_content_of(v),
            )
            for v in variants
        ],
    )
    steps = await repo.steps(tenant_id, campaign_id)
    await repo.replace_steps(
        tenant_id,
        copy.id,
        [
            CampaignStep(
                tenant_id=tenant_id,
                campaign_id=copy.id,
                position=step.position,
                delay_minutes=step.delay_minutes,
                **_content_of(step),
            )
            for step in steps
        ],
    )
    return copy


# --- actions --------------------------------------------------------------------------------


async def send_campaign(
    session: AsyncSession, tenant_id: UUID, campaign_id: UUID
) -> tuple[Campaign, int]:
    """Launch now (whatever was scheduled): the campaign runs once this transaction commits."""
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    _check_move(campaign, "send")
    if campaign.schedule and campaign.schedule.get("type") == "at":
        campaign.schedule = {"type": "now"}
    added = await launch(session, campaign, utcnow())
    return campaign, added


async def launch(session: AsyncSession, campaign: Campaign, now: datetime) -> int:
    """Refuse what cannot start (409/422 with the reason), else write the messages and set the
    campaign running. Also called by the scheduler for a due campaign."""
    tenant = await get_tenant(session, campaign.tenant_id)
    if tenant.is_paused:
        raise Conflict(
            "Sending is paused for this account (the kill switch); lift it with "
            'PATCH /v1/tenant {"is_paused": false} first.',
            reason="tenant_paused",
        )
    round_ = campaign.run_count
    plan = await launching.plan(session, tenant, campaign, now, round_)
    _refuse_unapproved(plan.composed)
    added = await launching.run(session, plan)
    repo = CampaignRepository(session)
    if not added and not await repo.has_messages(tenant.id, campaign.id, round_):
        raise Unprocessable(
            "No recipient is left once consent, opt-outs, do-not-contact, suppression and "
            f"frequency caps apply; see GET /v1/campaigns/{campaign.id}/preflight.",
            reason="no_recipients",
        )
    await _refuse_unfunded(session, tenant, campaign)
    for composed in plan.composed:
        if composed.saved_template_id is not None and added:
            await record_use(session, tenant.id, composed.saved_template_id, added)
    campaign.status = S.running
    campaign.status_reason = None
    campaign.next_run_at = None
    campaign.launched_at = campaign.launched_at or now
    campaign.run_count = round_ + 1
    await session.flush()
    return added


def _refuse_unapproved(composed: Sequence[Composed]) -> None:
    for variant in composed:
        status = variant.whatsapp_status
        if status is not None and status is not TemplateStatus.APPROVED:
            raise Unprocessable(
                f"Variant {variant.label}'s WhatsApp template is {status.value}, not APPROVED; "
                "it can be sent once Meta approves it.",
                reason="template_not_approved",
            )


async def _refuse_unfunded(session: AsyncSession, tenant: Tenant, campaign: Campaign) -> None:
    """Prepaid only: the launch's cost must be covered (one sum over the queued messages)."""
    wallet = await get_wallet(session, tenant.id)
    if wallet.billing_mode is not BillingMode.prepaid:
        return
    needed = await CampaignRepository(session).queued_cost(tenant.id, campaign.id)
    if needed > wallet.balance:
        raise Unprocessable(
            f"The campaign costs {needed} micro-units and the prepaid wallet holds "
            f"{wallet.balance}; top it up (POST /v1/wallet/credits) or narrow the audience.",
            reason="wallet_insufficient",
        )


async def schedule_campaign(
    session: AsyncSession, tenant_id: UUID, campaign_id: UUID, schedule: Schedule | Recurrence
) -> Campaign:
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    _check_move(campaign, "schedule")
    tenant = await get_tenant(session, tenant_id)
    campaign.schedule = schedule.model_dump(mode="json")
    campaign.next_run_at = first_run(schedule, tenant.timezone, utcnow())
    campaign.status = S.scheduled
    await _check_shape(session, campaign)
    await session.flush()
    return campaign


def first_run(schedule: Schedule | Recurrence, zone: str, now: datetime) -> datetime:
    """When the scheduler launches: the instant, when the first zone reaches the local time
    (each message then waits for its own zone's), or the rule's first occurrence in the
    tenant's zone ``zone`` (the recurring sweep launches it and sets the next)."""
    if isinstance(schedule, Recurrence):
        first = first_recurring_run(schedule, zone, now)
        if first is None:
            raise Unprocessable(
                "This recurring schedule never occurs (within five years); check its "
                "'cron', 'weekdays' or 'starts_on'.",
                reason="schedule_never_runs",
            )
        return first
    if schedule.type == "at":
        assert schedule.at is not None
        return schedule.at
    if schedule.type == "local":
        assert schedule.date is not None and schedule.local_time is not None
        clock = time.fromisoformat(schedule.local_time)
        return max(now, datetime.combine(schedule.date, clock, UTC) - EARLIEST_ZONE)
    return now


async def pause_campaign(
    session: AsyncSession, tenant_id: UUID, campaign_id: UUID, reason: str | None = None
) -> Campaign:
    """Stops new sends at once: the dispatcher claims messages of running campaigns only."""
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    _check_move(campaign, "pause")
    campaign.status = S.paused
    campaign.status_reason = reason
    await session.flush()
    return campaign


async def resume_campaign(session: AsyncSession, tenant_id: UUID, campaign_id: UUID) -> Campaign:
    """Back to running (or to scheduled, when it was paused before its launch)."""
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    _check_move(campaign, "resume")
    if (await get_tenant(session, tenant_id)).is_paused:
        raise Conflict(
            "Sending is paused for this account (the kill switch); lift it first.",
            reason="tenant_paused",
        )
    campaign.status = S.running if campaign.launched_at else S.scheduled
    campaign.status_reason = None
    await session.flush()
    return campaign


async def cancel_campaign(session: AsyncSession, tenant_id: UUID, campaign_id: UUID) -> Campaign:
    """Ends it for good: messages not yet sent fail as ``cancelled`` (sent ones stay)."""
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    _check_move(campaign, "cancel")
    await CampaignRepository(session).cancel_queued(tenant_id, campaign_id)
    campaign.status = S.cancelled
    campaign.next_run_at = None
    campaign.completed_at = utcnow()
    await session.flush()
    return campaign


# --- background work ------------------------------------------------------------------------


class Swept(NamedTuple):
    completed: int
    launched: int
    refused: int


async def sweep(db: Database, now: datetime, limit: int = 100) -> Swept:
    """Complete finished campaigns, then launch up to ``limit`` due scheduled ones, each in
    its own tenant-scoped transaction; a launch refused for a reason (no recipients, template
    not approved, wallet short) fails the campaign with that reason, a paused tenant pauses it."""
    async with db.system_session() as session:
        sweeps = CampaignSweeps(session)
        completed = await sweeps.complete_finished()
        due = await sweeps.due(now, limit)
    launched = refused = 0
    for tenant_id, campaign_id in due:
        try:
            async with db.tenant_session(tenant_id) as session:
                campaign = await claim_campaign(session, tenant_id, campaign_id)
                if campaign is None or not _due(campaign, now):
                    continue
                await launch(session, campaign, now)
                launched += 1
        except HeraldError as exc:
            refused += 1
            await _refused(db, tenant_id, campaign_id, str(exc.extra.get("reason", "refused")))
    return Swept(len(completed), launched, refused)


async def claim_campaign(
    session: AsyncSession, tenant_id: UUID, campaign_id: UUID
) -> Campaign | None:
    """The campaign, locked for this transaction, or None while another holds it. Sweeps
    take their campaigns this way and re-check them: two workers sweeping at once never
    launch one campaign twice, and neither waits for the other."""
    return await CampaignRepository(session).claim(tenant_id, campaign_id)


def _due(campaign: Campaign, now: datetime) -> bool:
    """Still scheduled and due, as read under the lock (a sweep that got here first has
    launched it, or someone paused or sent it meanwhile)."""
    return (
        campaign.status is S.scheduled
        and campaign.next_run_at is not None
        and campaign.next_run_at <= now
    )


async def _refused(db: Database, tenant_id: UUID, campaign_id: UUID, reason: str) -> None:
    async with db.tenant_session(tenant_id) as session:
        campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
        campaign.status = S.paused if reason == "tenant_paused" else S.failed
        campaign.status_reason = reason[:100]
        campaign.next_run_at = None


# --- figures --------------------------------------------------------------------------------


async def preflight(session: AsyncSession, tenant_id: UUID, campaign_id: UUID) -> Preflight:
    """What a launch now would do, without writing anything."""
    campaign = await get_campaign(session, tenant_id, campaign_id)
    tenant = await get_tenant(session, tenant_id)
    plan = await launching.plan(session, tenant, campaign, utcnow(), campaign.run_count)
    repo = CampaignRepository(session)
    excluded = await _exclusion_counts(repo, plan)
    eligible = plan.parts.all()
    first, last, by_country = await repo.send_times(plan.launch, eligible)
    recipients = sum(n for _, n in by_country)
    cost, unpriced, currency = _estimate(plan, by_country)
    wallet = await get_wallet(session, tenant_id)
    head = plan.composed[0]
    return Preflight(
        recipients=recipients,
        excluded=excluded,
        segments=head.segments,
        encoding=head.encoding,
        cost=cost,
        unpriced=unpriced,
        currency=currency,
        credits_available=wallet.balance,
        billing_mode=wallet.billing_mode.value,
        first_send_at=first,
        last_send_at=_last_with_caps(first, last, recipients, plan),
        warnings=_warnings(plan, tenant, recipients, cost, wallet.balance, wallet.billing_mode),
    )


async def _exclusion_counts(repo: CampaignRepository, plan: launching.Plan) -> dict[str, int]:
    asked = [*plan.parts.audience]
    counts = await repo.reasons(asked, plan.parts.reason())
    in_audience = sum(counts.values())
    kept = await repo.reasons([*asked, *plan.parts.exclusions], plan.parts.reason())
    excluded = {reason: kept.get(reason, 0) for reason in REASONS}
    excluded["excluded"] = in_audience - sum(kept.values())
    audience = plan.campaign.audience
    excluded["invalid_number"] += int(audience.get("invalid_numbers", 0))
    excluded["duplicate_number"] = int(audience.get("duplicate_numbers", 0))
    return excluded


def _estimate(
    plan: launching.Plan, by_country: list[tuple[str, int]]
) -> tuple[int | None, int, str | None]:
    """The cost of the recipients by country and variant share (None if some are unpriced)."""
    total, unpriced, currency = 0, 0, None
    for country, count in by_country:
        for variant in plan.composed:
            share = count * (variant.high - variant.low) // 100
            cost, found_currency = launching.price_of(plan.prices, country, variant)
            if cost is None:
                unpriced += share
                continue
            total += cost * share
            currency = currency or found_currency
    return (None if unpriced else total), unpriced, currency


def _last_with_caps(
    first: datetime | None, last: datetime | None, recipients: int, plan: launching.Plan
) -> datetime | None:
    """The quiet-hours' last send time, or later when the channels' per-second rate needs
    longer to get through everyone."""
    if first is None or last is None:
        return last
    rate = sum(channel.rate_per_second for channel in plan.senders) or 1
    return max(last, first + timedelta(seconds=recipients / rate))


def _warnings(
    plan: launching.Plan,
    tenant: Tenant,
    recipients: int,
    cost: int | None,
    balance: int,
    mode: BillingMode,
) -> list[str]:
    warnings = []
    for variant in plan.composed:
        if variant.opt_out_missing:
            warnings.append(
                f"Variant {variant.label} has no opt-out wording; add 'Reply STOP to opt out' "
                "or {{ opt_out }}, or turn the account's opt-out footer on."
            )
        if variant.encoding == "UCS-2":
            warnings.append(
                f"Variant {variant.label} is UCS-2 (a character outside GSM-7): each segment "
                "holds 70 characters instead of 160, about doubling the cost."
            )
        status = variant.whatsapp_status
        if status is not None and status is not TemplateStatus.APPROVED:
            warnings.append(f"Variant {variant.label}'s WhatsApp template is {status.value}.")
    if recipients == 0:
        warnings.append("Nobody would receive this campaign.")
    if tenant.is_paused:
        warnings.append("Sending is paused for this account (the kill switch).")
    if mode is BillingMode.prepaid and cost is not None and cost > balance:
        warnings.append("The prepaid wallet does not cover this campaign.")
    if plan.campaign.kind is ChannelKind.sms and any(
        c.status.value != "active" for c in plan.senders
    ):
        warnings.append("A channel of this campaign is not active; nothing goes out on it.")
    return warnings


async def report(session: AsyncSession, tenant_id: UUID, campaign_id: UUID) -> Report:
    campaign = await get_campaign(session, tenant_id, campaign_id)
    repo = CampaignRepository(session)
    stats = await repo.stats(tenant_id, campaign_id)
    labels = {v.id: v.label for v in await repo.variants(tenant_id, campaign_id)}
    variants = [
        VariantFigures(
            variant_id=row["variant_id"],
            label=labels.get(row["variant_id"]),
            messages=row["messages"],
            sent=row["sent"],
            delivered=row["delivered"],
            failed=row["failed"],
            clicked=row.get("clicked", 0),
            replied=row.get("replied", 0),
            opted_out=row.get("opted_out", 0),
            cost=int(row["cost"]),
        )
        for row in await repo.by_variant(tenant_id, campaign_id)
    ]
    return Report(
        campaign_id=campaign.id,
        status=campaign.status,
        messages=stats.total,
        sent=stats.sent + stats.delivered + stats.read + stats.undelivered,
        delivered=stats.delivered + stats.read,
        failed=stats.failed + stats.undelivered,
        clicked=stats.clicked,
        replied=stats.replied,
        opted_out=stats.opted_out,
        cost=stats.cost,
        currency=stats.currency,
        variants=sorted(variants, key=lambda v: v.label or ""),
    )


EXPORT_COLUMNS = (
    "message_id",
    "contact_id",
    "phone",
    "variant",
    "status",
    "error_code",
    "cost_micros",
    "currency",
    "sent_at",
    "delivered_at",
    "failed_at",
)
EXPORT_BATCH = 5000


async def export_rows(
    session: AsyncSession, tenant_id: UUID, campaign_id: UUID
) -> AsyncIterator[Sequence[Any]]:
    """Every recipient's outcome, in batches (the route streams them as CSV)."""
    await get_campaign(session, tenant_id, campaign_id)
    async for batch in CampaignRepository(session).messages(tenant_id, campaign_id, EXPORT_BATCH):
        yield batch
