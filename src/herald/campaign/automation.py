"""Campaign automation: the sweeps that keep campaigns in step with what happens around them.

- **Holds**: the kill switch, a reached budget and a WhatsApp template that Meta paused or
  disabled pause every running campaign concerned, with the reason (``tenant_paused``,
  ``daily_budget_reached``/``monthly_budget_reached``, ``template_paused``/
  ``template_disabled``); when the cause goes away (unpaused, the budget reset or raised, the
  template approved again) the campaign runs again. A campaign a person paused is left alone.
- **Recurring runs**: a recurring campaign whose run is over is scheduled again for its next
  occurrence, in the tenant's zone; the campaign scheduler launches it then (one launch path,
  ``campaign_round`` = the run number).
- **Messaging tiers**: a WhatsApp channel's tier bounds how many new people its campaigns reach
  in 24 hours; messages past it wait for room.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Self
from zoneinfo import ZoneInfo

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from herald.campaign.automation_repository import AutomationRepository, Finished, Hold

log = structlog.get_logger(__name__)

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 366 * 5
"""How far a recurrence is searched for its next day: a cron rule for 29 February finds it."""
REARM_BATCH = 500

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


async def rearm_recurring(session: AsyncSession, now: datetime) -> int:
    """Schedule the next run of every recurring campaign whose run is over; one that reached
    ``max_runs`` (or has no further occurrence) stays ``completed``. Returns how many."""
    repo = AutomationRepository(session)
    runs = [
        (found.tenant_id, found.campaign_id, at)
        for found in await repo.finished_recurring(REARM_BATCH)
        if (at := _next_of(found, now)) is not None
    ]
    if runs:
        await repo.rearm(runs, now)
    return len(runs)


def _next_of(found: Finished, now: datetime) -> datetime | None:
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


async def bound_by_tiers(session: AsyncSession, now: datetime) -> int:
    """Hold back the campaign messages that would take a WhatsApp channel past its messaging
    tier in the rolling 24 hours; returns how many were moved later."""
    return await AutomationRepository(session).hold_past_tiers(
        TIERS, now - TIER_WINDOW, now + TIER_HORIZON, now
    )
