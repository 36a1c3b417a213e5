"""The rules of campaign automation that need no database: recurring schedules (when the
next run falls, in the tenant's zone) and A/B tests with an automatic winner (which share of
the audience the test phase reaches). The API validates with them, the service and the launch
apply them, and the sweeps in ``herald.campaign.automation`` act on them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal, Self
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from herald.tenant.schemas import HHMM

if TYPE_CHECKING:
    # the repository imports the schemas, which read the rules: a type is all this needs
    from herald.campaign.repository import VariantRow

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 366 * 5
"""How far a recurrence is searched for its next day: a cron rule for 29 February finds it."""

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


def first_run(schedule: Recurrence, zone: str, now: datetime) -> datetime | None:
    """When a newly scheduled recurring campaign first runs (for the campaign's schedule
    action): the first occurrence after ``now``, counting ``every_days`` from today."""
    return next_run(schedule, zone, now, now.astimezone(ZoneInfo(zone)).date())


# --- A/B tests ------------------------------------------------------------------------------


class AbSettings(BaseModel):
    """What the API accepts as ``ab``: the variants go to ``test_share`` percent of the
    audience; after ``decide_after_minutes`` the one with the best rate of ``metric`` wins and
    the rest of the audience gets it."""

    model_config = ConfigDict(extra="forbid")

    test_share: int = Field(ge=1, le=99, description="Percent of the audience in the test.")
    metric: Literal["clicks", "replies"] = "clicks"
    decide_after_minutes: int = Field(ge=1, le=7 * 24 * 60)


class AbTest(AbSettings):
    """``campaigns.ab`` as stored: the settings, then ``winner_variant_id`` and
    ``decided_at`` once the decision is made."""

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


def launch_ranges(variants: Sequence[VariantRow], ab: AbTest | None) -> list[VariantRow]:
    """The variant ranges a launch writes: as given without a test; the test phase while the
    winner is unknown; the winner alone, for everyone, once it is (a later recurring run)."""
    if ab is None:
        return list(variants)
    if ab.winner_variant_id is None:
        return ranges_for_test_phase(variants, ab.test_share)
    return [replace(v, low=0, high=100) for v in variants if v.variant_id == ab.winner_variant_id]
