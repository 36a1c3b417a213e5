"""Recurring schedules: the next occurrence in the tenant's zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from herald.campaign.automation_rules import Recurrence, first_run, next_run

NEW_YORK = "America/New_York"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_every_n_days_keeps_the_local_time_across_the_spring_change() -> None:
    rule = Recurrence(every_days=2, at="10:00")
    anchor = date(2026, 3, 5)
    # 10:00 EST on 7 March is 15:00 UTC; 10:00 EDT on 9 March is 14:00 UTC.
    assert next_run(rule, NEW_YORK, _utc(2026, 3, 5, 15, 1), anchor) == _utc(2026, 3, 7, 15)
    assert next_run(rule, NEW_YORK, _utc(2026, 3, 7, 15, 0), anchor) == _utc(2026, 3, 9, 14)


def test_every_day_at_a_skipped_time_runs_once_after_the_gap() -> None:
    rule = Recurrence(every_days=1, at="02:30")
    anchor = date(2026, 3, 1)
    # 02:30 does not exist on 8 March in New York: it runs at 03:30 EDT (07:30 UTC), once.
    run = next_run(rule, NEW_YORK, _utc(2026, 3, 7, 8, 0), anchor)
    assert run == _utc(2026, 3, 8, 7, 30)
    assert next_run(rule, NEW_YORK, run, anchor) == _utc(2026, 3, 9, 6, 30)


def test_a_repeated_time_in_the_autumn_runs_once() -> None:
    rule = Recurrence(every_days=1, at="01:30")
    anchor = date(2026, 10, 1)
    # 1 November: 01:30 happens twice in New York; the first (EDT, 05:30 UTC) is the run.
    run = next_run(rule, NEW_YORK, _utc(2026, 11, 1, 4, 0), anchor)
    assert run == _utc(2026, 11, 1, 5, 30)
    assert next_run(rule, NEW_YORK, run, anchor) == _utc(2026, 11, 2, 6, 30)


def test_weekdays_at_a_time() -> None:
    rule = Recurrence(weekdays=["mon", "thu"], at="09:15")
    # Tuesday 1 December 2026, in Paris (UTC+1): the next is Thursday 3rd at 08:15 UTC.
    after = _utc(2026, 12, 1, 12)
    assert next_run(rule, "Europe/Paris", after, date(2026, 1, 1)) == _utc(2026, 12, 3, 8, 15)
    assert next_run(rule, "Europe/Paris", _utc(2026, 12, 3, 8, 15), date(2026, 1, 1)) == _utc(
        2026, 12, 7, 8, 15
    )


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("0 9 * * 1-5", _utc(2026, 12, 4, 15), _utc(2026, 12, 7, 14)),  # Fri → Mon 09:00 EST
        ("*/20 8-9 * * *", _utc(2026, 12, 1, 13, 41), _utc(2026, 12, 1, 14, 0)),
        ("0 12 1,15 * *", _utc(2026, 12, 2), _utc(2026, 12, 15, 17)),
        ("0 0 29 2 *", _utc(2026, 3, 1), _utc(2028, 2, 29, 5)),
        ("30 7 13 * 5", _utc(2026, 12, 1), _utc(2026, 12, 4, 12, 30)),  # dom or dow (Friday)
        ("0 6 * * 7", _utc(2026, 12, 1), _utc(2026, 12, 6, 11)),  # 7 is Sunday
    ],
)
def test_cron_subset(cron: str, after: datetime, expected: datetime) -> None:
    rule = Recurrence(cron=cron)
    assert next_run(rule, NEW_YORK, after, date(2026, 1, 1)) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"every_days": 2}, "need 'at'"),
        ({"every_days": 2, "weekdays": ["mon"], "at": "10:00"}, "exactly one"),
        ({"cron": "0 9 * *"}, "five fields"),
        ({"cron": "61 * * * *"}, "outside 0-59"),
        ({"cron": "0 9 L * *"}, "numbers"),
        ({"weekdays": ["monday"], "at": "10:00"}, "weekdays"),
        ({"every_days": 1, "at": "25:00"}, "at"),
    ],
)
def test_bad_rules_say_what_to_fix(body: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Recurrence.model_validate({"type": "recurring", **body})
    assert message in str(caught.value)


def test_first_run_counts_every_n_days_from_today() -> None:
    rule = Recurrence(every_days=7, at="08:00")
    now = _utc(2026, 12, 1, 9)
    assert first_run(rule, "UTC", now) == _utc(2026, 12, 8, 8)
    assert first_run(rule, "UTC", _utc(2026, 12, 1, 7)) == _utc(2026, 12, 1, 8)
