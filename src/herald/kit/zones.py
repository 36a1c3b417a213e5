"""The IANA time zones Herald accepts: one set for tenants, contacts and imports."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """Every zone name the installed tz database knows. Built on first use (it walks the
    database), once per process."""
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    return name in time_zones()
