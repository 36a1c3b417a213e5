"""Campaign automation: the sweeps that keep campaigns in step with what happens around them.

- **Holds**: the kill switch, a reached budget and a WhatsApp template that Meta paused or
  disabled pause every running campaign concerned, with the reason (``tenant_paused``,
  ``daily_budget_reached``/``monthly_budget_reached``, ``template_paused``/
  ``template_disabled``); when the cause goes away (unpaused, the budget reset or raised, the
  template approved again) the campaign runs again. A campaign a person paused is left alone.
- **Recurring runs**: a due recurring campaign is launched through the campaign's own launch
  (``campaign_round`` = the run number) and its next occurrence, in the tenant's zone, set.
- **Automatic A/B winner**: after ``decide_after_minutes`` the variant with the best click (or
  reply) rate among the test share wins; it is recorded and sent to the rest of the audience.
- **Drip sequences**: see ``herald.campaign.automation_drip``.

The rules these act on (recurrence, A/B settings and test-phase ranges) need no database and
live in ``herald.campaign.automation_rules``, where the API and the launch read them too.
- **Messaging tiers**: a WhatsApp campaign reaches at most as many new people in 24 hours as its
  channel's tier allows; messages past it wait for room.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from fractions import Fraction
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.campaign import launch as launching
from herald.campaign.automation_repository import AutomationRepository, Hold, Unarmed
from herald.campaign.automation_rules import METRIC_EVENTS, AbTest, Recurrence, next_run
from herald.campaign.launch import Plan
from herald.campaign.models import Campaign, CampaignStatus
from herald.campaign.service import claim_campaign, get_campaign, launch
from herald.kit.database import Database
from herald.kit.errors import HeraldError
from herald.tenant.service import get_tenant

log = structlog.get_logger(__name__)

BATCH = 500
"""Campaigns one sweep takes on; the next sweep takes the rest."""
RECURRING_STATES = frozenset(
    {CampaignStatus.scheduled, CampaignStatus.running, CampaignStatus.completed}
)
"""A recurring campaign runs again from these (not when paused, cancelled or failed)."""

TIERS = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_2K": 2_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
}
"""Meta's messaging tiers: new people a WhatsApp number may start conversations with per
rolling 24 hours. ``TIER_UNLIMITED`` (and no tier) bound nothing."""
TIER_WINDOW = timedelta(hours=24)
TIER_HORIZON = timedelta(minutes=2)
"""Queued messages due this soon are checked against the tier (the sweep runs every minute)."""


# --- sweeps ---------------------------------------------------------------------------------


async def apply_holds(session: AsyncSession, now: datetime) -> list[Hold]:
    """Pause and resume campaigns for the kill switch, budgets and WhatsApp templates (one
    statement across tenants; run in a system session). Returns what changed."""
    changed = await AutomationRepository(session).apply_holds(now)
    for hold in changed:
        log.info(
            "campaign.hold_changed",
            tenant_id=str(hold.tenant_id),
            campaign_id=str(hold.campaign_id),
            status=hold.status,
            reason=hold.reason,
        )
    return changed


async def run_recurring(db: Database, now: datetime) -> int:
    """Launch every recurring campaign whose next run is due, each through the campaign's own
    launch (``campaign_round`` = the run number), then set its following run; a campaign with
    no next run set (its first run was sent by hand) gets one. Returns how many launched."""
    async with db.system_session() as session:
        repo = AutomationRepository(session)
        unarmed = await repo.unarmed_recurring(BATCH)
        runs = [(u.tenant_id, u.campaign_id, at) for u in unarmed if (at := _next_of(u, now))]
        if runs:
            await repo.arm(runs, now)
        due = await repo.due_recurring(now, BATCH)
    return await for_each_campaign(db, due, _launch_run, now)


CampaignWork = Callable[[AsyncSession, UUID, UUID, datetime], Awaitable[int]]


async def for_each_campaign(
    db: Database, due: Sequence[tuple[UUID, UUID]], work: CampaignWork, now: datetime
) -> int:
    """Run ``work`` for each campaign in its tenant's own transaction; one campaign's fault
    is logged and must not stop the sweep for the others."""
    done = 0
    for tenant_id, campaign_id in due:
        try:
            async with db.tenant_session(tenant_id) as session:
                done += await work(session, tenant_id, campaign_id, now)
        except Exception:
            log.exception("campaign.automation_failed", campaign_id=str(campaign_id))
    return done


async def _launch_run(
    session: AsyncSession, tenant_id: UUID, campaign_id: UUID, now: datetime
) -> int:
    """One due run, under the campaign's row lock: a campaign another worker's sweep holds is
    passed by, and one found no longer due (its run launched meanwhile) is left alone. A run
    that cannot start (the kill switch, no recipient left, an unfunded wallet) is skipped with
    a warning, and the next one is set all the same."""
    campaign = await claim_campaign(session, tenant_id, campaign_id)
    if campaign is None or not _run_due(campaign, now):
        return 0
    launched = 0
    try:
        async with session.begin_nested():
            await launch(session, campaign, now)
            launched = 1
    except HeraldError as exc:
        log.warning("campaign.run_skipped", campaign_id=str(campaign_id), reason=exc.detail)
    zone = (await get_tenant(session, tenant_id)).timezone
    anchor = Unarmed(
        tenant_id,
        campaign_id,
        campaign.schedule or {},
        campaign.run_count,
        campaign.launched_at or now,
        zone,
    )
    campaign.next_run_at = _next_of(anchor, now)
    await session.flush()
    return launched


def _run_due(campaign: Campaign, now: datetime) -> bool:
    return (
        campaign.status in RECURRING_STATES
        and campaign.next_run_at is not None
        and campaign.next_run_at <= now
    )


def _next_of(found: Unarmed, now: datetime) -> datetime | None:
    try:
        rule = Recurrence.model_validate(found.schedule)
    except ValidationError:
        log.warning("campaign.bad_recurrence", campaign_id=str(found.campaign_id))
        return None
    if rule.max_runs is not None and found.run_count >= rule.max_runs:
        return None
    anchor = found.first_launch.astimezone(ZoneInfo(found.timezone)).date()
    return next_run(rule, found.timezone, now, anchor)


# --- automatic A/B winner ---------------------------------------------------------------------


async def decide_winners(db: Database, now: datetime) -> int:
    """Decide every A/B test whose time has come; returns how many were decided."""
    async with db.system_session() as session:
        due = await AutomationRepository(session).ab_due(now, BATCH)
    return await for_each_campaign(db, due, _decide, now)


async def _decide(session: AsyncSession, tenant_id: UUID, campaign_id: UUID, now: datetime) -> int:
    """Record the winner and send it to the rest of the audience of the same round: the
    launch skips who already has this round's message. If the rest cannot be launched (an
    unfunded wallet…), nothing is recorded and the next sweep tries again."""
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    test = AbTest.model_validate(campaign.ab or {})
    if test.decided_at is not None or campaign.status is not CampaignStatus.running:
        return 0
    round_ = max(campaign.run_count - 1, 0)
    rates = await AutomationRepository(session).variant_rates(
        tenant_id, campaign_id, round_, METRIC_EVENTS[test.metric]
    )
    winner = pick_winner(rates)
    tenant = await get_tenant(session, tenant_id)
    try:
        async with session.begin_nested():
            plan = await launching.plan(session, tenant, campaign, now, round_)
            await launching.run(session, _winner_only(plan, winner))
    except HeraldError as exc:
        log.warning("campaign.ab_rest_not_sent", campaign_id=str(campaign_id), reason=exc.detail)
        return 0
    decided = test.model_copy(update={"winner_variant_id": winner, "decided_at": now})
    campaign.ab = decided.model_dump(mode="json")
    await session.flush()
    log.info("campaign.ab_decided", campaign_id=str(campaign_id), winner=str(winner))
    return 1


def pick_winner(rates: Sequence[tuple[UUID, int, int]]) -> UUID:
    """The best rate (engaged / reached); a tie goes to the earlier variant, and so does a
    test nobody engaged with."""
    best = max(rates, key=lambda r: Fraction(r[2], r[1]) if r[1] else Fraction(0))
    return best[0]


def _winner_only(plan: Plan, winner: UUID) -> Plan:
    [row] = [v for v in plan.launch.variants if v.variant_id == winner]
    launch_ = replace(plan.launch, variants=[replace(row, low=0, high=100)])
    composed = [c for c in plan.composed if c.variant_id == winner]
    return replace(plan, launch=launch_, composed=composed)


async def bound_by_tiers(session: AsyncSession, now: datetime) -> int:
    """Hold back the messages that would take a WhatsApp campaign past its channel's messaging
    tier in the rolling 24 hours; returns how many were moved later."""
    return await AutomationRepository(session).hold_past_tiers(
        TIERS, now - TIER_WINDOW, now + TIER_HORIZON, now
    )
