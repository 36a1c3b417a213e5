"""Request rate limits that hold across API replicas.

Counters live in PostgreSQL, one row per (scope, subject, minute): every replica increments the
same row with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, so the limit is global without
a separate cache server. The table is UNLOGGED (see the migration): counters need no crash
safety, and skipping the WAL keeps the upsert cheap.

The limit is a sliding window: the previous minute's count, weighted by how much of it still
lies within the last 60 seconds, is added to the current minute's. Fixed windows alone would let
a burst of twice the limit through across a minute boundary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, String, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.database import Database
from herald.kit.errors import TooManyRequests
from herald.kit.models import Base

WINDOW = timedelta(minutes=1)


class RateLimitHit(Base):
    """How many requests one subject (an IP, an email) made in one scope during one minute."""

    __tablename__ = "rate_limit_hits"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(320), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int]


class RateLimiter:
    """Allows ``per_minute`` requests per subject and scope over any sliding minute."""

    def __init__(self, db: Database, per_minute: int) -> None:
        self.db = db
        self.per_minute = per_minute

    async def check(self, scope: str, *subjects: str | None) -> None:
        """Count this request against every subject; 429 if any is over the limit.

        Runs in a transaction of its own, so the count sticks even when the request fails.
        """
        keys = [(scope, s.lower()) for s in subjects if s]
        if not keys:
            return
        async with self.db.system_session() as session:
            current = await _increment(session, keys)
            window = next(iter(current.values()))[1]
            previous = await _hits_in(session, keys, window - WINDOW)
        weight = remaining_share(window)
        over = [
            start
            for key, (hits, start) in current.items()
            if hits + previous.get(key, 0) * weight > self.per_minute
        ]
        if over:
            retry_after = _seconds_until(max(over) + WINDOW)
            raise TooManyRequests(
                f"Too many {scope} attempts; wait {retry_after} seconds and try again.",
                retry_after=retry_after,
            )


Key = tuple[str, str]
"""(scope, subject)"""


async def _increment(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, tuple[int, datetime]]:
    """Count one hit per key in the current minute; each key's count and window start."""
    window = func.date_trunc("minute", func.now())
    values = insert(RateLimitHit).values(
        [
            {"scope": scope, "subject": subject, "window_start": window, "hits": 1}
            for scope, subject in keys
        ]
    )
    stmt = values.on_conflict_do_update(
        index_elements=[RateLimitHit.scope, RateLimitHit.subject, RateLimitHit.window_start],
        set_={"hits": RateLimitHit.hits + 1},
    ).returning(
        RateLimitHit.scope, RateLimitHit.subject, RateLimitHit.hits, RateLimitHit.window_start
    )
    rows = (await session.execute(stmt)).all()
    return {(scope, subject): (hits, start) for scope, subject, hits, start in rows}


async def _hits_in(session: AsyncSession, keys: Sequence[Key], window: datetime) -> dict[Key, int]:
    stmt = select(RateLimitHit.scope, RateLimitHit.subject, RateLimitHit.hits).where(
        tuple_(RateLimitHit.scope, RateLimitHit.subject).in_(keys),
        RateLimitHit.window_start == window,
    )
    return {(scope, subject): hits for scope, subject, hits in (await session.execute(stmt)).all()}


def remaining_share(window: datetime, now: datetime | None = None) -> float:
    """How much of the minute before ``window`` still lies within the 60 seconds up to now."""
    elapsed = ((now or datetime.now(UTC)) - window) / WINDOW
    return min(1.0, max(0.0, 1.0 - elapsed))


def _seconds_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - datetime.now(UTC)).total_seconds()))


async def purge_windows(session: AsyncSession, before: datetime) -> int:
    """Delete the counters of windows that started before ``before``; return how many."""
    result = await session.execute(delete(RateLimitHit).where(RateLimitHit.window_start < before))
    return int(cast(CursorResult[Any], result).rowcount)
