"""Quiet hours: the local hours in which a marketing message may reach a person.

The hours are the tenant's (or the campaign's) window, narrowed by the law of the place the
number belongs to: the US federal rule (TCPA: 08:00 to 21:00) and stricter state rules
(Florida: 08:00 to 20:00), found from the calling code and the area code. The zone is the
contact's own when it has one, else the number's (phonenumbers' zone data), else the tenant's.

The launch computes send times in SQL from a small table built here, one row per number
prefix of the audience; ``earliest`` is the same rule in Python, for previews and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers import timezone as phone_zones

from herald.kit.zones import is_time_zone
from herald.tenant.schemas import QuietHours

PREFIX_LENGTH = 5
"""``+1305``: enough for every calling code and, in North America, the area code."""


@dataclass(frozen=True)
class Window:
    """Local hours ``[start, end)`` of one day."""

    start: time
    end: time

    @classmethod
    def of(cls, hours: QuietHours) -> Window:
        return cls(time.fromisoformat(hours.start), time.fromisoformat(hours.end))

    def narrowed(self, law: Window | None) -> Window:
        """The part of this window the law also allows (the law's, if they do not overlap)."""
        if law is None:
            return self
        start, end = max(self.start, law.start), min(self.end, law.end)
        return Window(start, end) if start < end else law

    @property
    def start_minute(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        return self.end.hour * 60 + self.end.minute


COUNTRY_HOURS: dict[str, Window] = {"US": Window(time(8), time(21))}
"""Legal marketing hours by country (47 CFR 64.1200: 08:00 to 21:00 recipient's time)."""
STATE_HOURS: dict[str, Window] = {"FL": Window(time(8), time(20))}
"""Stricter US state rules (Florida Telephone Solicitation Act: 08:00 to 20:00)."""
STATE_AREA_CODES: dict[str, frozenset[str]] = {
    "FL": frozenset(
        {"239", "305", "321", "324", "352", "386", "407", "448", "561", "645", "656", "689"}
        | {"727", "728", "754", "772", "786", "813", "850", "863", "904", "941", "954"}
    ),
}


def prefix_of(e164: str) -> str:
    return e164[:PREFIX_LENGTH]


def _parse(e164: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(e164, None)
    except NumberParseException:
        return None


def zone_of_number(e164: str) -> str | None:
    """The number's zone when its prefix names one (the first, if it spans several)."""
    number = _parse(e164)
    if number is None:
        return None
    for zone in phone_zones.time_zones_for_number(number):
        if is_time_zone(zone):
            return zone
    return None


def law_for(e164: str) -> Window | None:
    """The legal hours of the number's country, or of its US state when stricter."""
    number = _parse(e164)
    if number is None:
        return None
    region = phonenumbers.region_code_for_number(number)
    if region == "US":
        area = phonenumbers.national_significant_number(number)[:3]
        for state, codes in STATE_AREA_CODES.items():
            if area in codes:
                return STATE_HOURS[state]
    return COUNTRY_HOURS.get(region or "")


def earliest(at: datetime, zone: str, window: Window) -> datetime:
    """The first instant at or after ``at`` inside ``window`` in ``zone`` (DST included: the
    local time is converted back through the zone's rules of that day)."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    if local.time() < window.start:
        return _at(local.date(), window.start, tz)
    if local.time() >= window.end:
        return _at(local.date() + timedelta(days=1), window.start, tz)
    return at


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tz)
