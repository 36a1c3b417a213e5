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
- **Messaging tiers**: a WhatsApp campaign reaches at most as many new people in 24 hours as its
  channel's tier allows; messages past it wait for room.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Literal, Self
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from herald.campaign import launch as launching
from herald.campaign.automation_repository import AutomationRepository, Hold, Unarmed
from herald.campaign.launch import Plan
from herald.campaign.models import CampaignStatus
from herald.campaign.repository import VariantRow
from herald.campaign.service import get_campaign, launch
from herald.kit.database import Database
from herald.kit.errors import HeraldError
from herald.tenant.service import get_tenant

log = structlog.get_logger(__name__)

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 366 * 5
"""How far a recurrence is searched for its next day: a cron rule for 29 February finds it."""
BATCH = 500
"""Campaigns one sweep takes on; the next sweep takes the rest."""

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


# --- recurrence -----------------------------------------------------------------------------


class Recurrence(BaseModel):
    """A recurring schedule, in the tenant's zone: ``every_days`` N days at ``at``, on
    ``weekdays`` at ``at``, or ``cron`` (``"m h dom mon dow"``: numbers, ``*``, lists, ranges
    and ``/`` steps; day of week 0-6 from Sunday, 7 is Sunday too). ``max_runs`` ends it."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["recurring"] = "recurring"
    every_days: int | None = Field(default=None, ge=1, le=365)
    weekdays: list[Weekday] | None = Field(default=None, min_length=1, max_length=7)
    at: str | None = Field(default=None, pattern=HHMM, description="Local time, HH:MM.")
    cron: str | None = Field(default=None, max_length=100)
    starts_on: date | None = None
    """The first day ``every_days`` counts from (default: the day of the first launch)."""
    max_runs: int | None = Field(default=None, ge=1, le=100_000)

    @model_validator(mode="after")
    def _one_rule(self) -> Self:
        rules = [self.every_days is not None, self.weekdays is not None, self.cron is not None]
        if sum(rules) != 1:
            raise ValueError("give exactly one of 'every_days', 'weekdays' or 'cron'")
        if self.cron is None and self.at is None:
            raise ValueError("'every_days' and 'weekdays' need 'at', the local time (HH:MM)")
        if self.cron is not None:
            Cron.parse(self.cron)
        return self


class Cron:
    """The five-field subset, matched on local wall-clock time."""

    _FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?$")
    _BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))

    def __init__(self, fields: list[set[int]], dom_any: bool, dow_any: bool) -> None:
        self.minutes, self.hours, self.days, self.months, self.weekdays = fields
        self.dom_any, self.dow_any = dom_any, dow_any

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != 5:
            raise ValueError(f"cron {text!r} needs five fields: minute hour day month weekday")
        fields = [cls._field(p, lo, hi) for p, (lo, hi) in zip(parts, cls._BOUNDS, strict=True)]
        fields[4] = {d % 7 for d in fields[4]}
        return cls(fields, parts[2] == "*", parts[4] == "*")

    @classmethod
    def _field(cls, text: str, lo: int, hi: int) -> set[int]:
        values: set[int] = set()
        for item in text.split(","):
            match = cls._FIELD.match(item)
            if match is None:
                raise ValueError(f"cron field {text!r}: use numbers, *, a-b, lists and /steps")
            span, _, step = item.partition("/")
            first, _, last = span.partition("-")
            start, end = (lo, hi) if span == "*" else (int(first), int(last or first))
            if not lo <= start <= end <= hi or (step and int(step) < 1):
                raise ValueError(f"cron field {text!r} is outside {lo}-{hi}")
            values.update(range(start, end + 1, int(step or 1)))
        return values

    def on(self, day: date) -> bool:
        """Cron's rule: when both day fields are restricted, either may match."""
        if day.month not in self.months:
            return False
        by_dom, by_dow = day.day in self.days, (day.weekday() + 1) % 7 in self.weekdays
        if self.dom_any or self.dow_any:
            return by_dom and by_dow
        return by_dom or by_dow

    def times(self) -> list[time]:
        return [time(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]


def next_run(rule: Recurrence, zone: str, after: datetime, anchor: date) -> datetime | None:
    """The first occurrence strictly after ``after``, as a UTC-aware instant. Wall times are
    read in ``zone``: a time the clocks skip (spring forward) runs an hour later, a time they
    repeat (fall back) runs once, at its first occurrence."""
    tz = ZoneInfo(zone)
    start = after.astimezone(tz).date()
    for day in _days(rule, start, rule.starts_on or anchor):
        for clock in _times(rule):
            at = _instant(day, clock, tz)
            if at > after:
                return at
    return None


def _days(rule: Recurrence, start: date, anchor: date) -> Iterator[date]:
    cron = Cron.parse(rule.cron) if rule.cron else None
    for offset in range(SEARCH_DAYS):
        day = start + timedelta(days=offset)
        if rule.every_days is not None:
            gap = (day - anchor).days
            if gap >= 0 and gap % rule.every_days == 0:
                yield day
        elif rule.weekdays is not None:
            if WEEKDAYS[day.weekday()] in rule.weekdays:
                yield day
        elif cron is not None and cron.on(day):
            yield day


def _times(rule: Recurrence) -> list[time]:
    if rule.cron:
        return Cron.parse(rule.cron).times()
    assert rule.at is not None
    return [time.fromisoformat(rule.at)]


def _instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """``day`` at ``clock`` in ``tz`` as UTC. A wall time in a gap reads with the offset from
    before the change (PEP 495, ``fold=0``), which lands an hour later; a repeated one, at its
    first occurrence."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


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
    """One due run, under the campaign's row lock (another worker's sweep finds it no longer
    due). A run that cannot start (the kill switch, no recipient left, an unfunded wallet) is
    skipped with a warning, and the next one is set all the same."""
    campaign = await get_campaign(session, tenant_id, campaign_id, for_update=True)
    if campaign.next_run_at is None or campaign.next_run_at > now:
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


def first_run(schedule: Recurrence, zone: str, now: datetime) -> datetime | None:
    """When a newly scheduled recurring campaign first runs (for the campaign's schedule
    action): the first occurrence after ``now``, counting ``every_days`` from today."""
    return next_run(schedule, zone, now, now.astimezone(ZoneInfo(zone)).date())


# --- automatic A/B winner ---------------------------------------------------------------------


class AbTest(BaseModel):
    """``campaigns.ab``: the variants go to ``test_share`` percent of the audience; after
    ``decide_after_minutes`` the one with the best rate of ``metric`` wins and the rest of the
    audience gets it. ``winner_variant_id`` and ``decided_at`` are set by the decision."""

    model_config = ConfigDict(extra="forbid")

    test_share: int = Field(ge=1, le=99)
    metric: Literal["clicks", "replies"] = "clicks"
    decide_after_minutes: int = Field(ge=1, le=7 * 24 * 60)
    winner_variant_id: UUID | None = None
    decided_at: datetime | None = None


METRIC_EVENTS = {"clicks": "clicked", "replies": "replied"}


def ranges_for_test_phase(variants: Sequence[VariantRow], test_share: int) -> list[VariantRow]:
    """The launch's variant rows for the test phase: their ranges of the contact hash
    ``[0, 100)`` scaled into ``[0, test_share)``, so the rest of the audience gets nothing
    until the winner is known (for the campaign's launch to apply when ``ab`` is set)."""
    return [
        replace(v, low=v.low * test_share // 100, high=v.high * test_share // 100) for v in variants
    ]


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
