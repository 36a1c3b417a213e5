"""Request rate limits that hold across API replicas.

Counters live in PostgreSQL, one row per (scope, subject, minute): every replica increments the
same row with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, so the limit is global without
a separate cache server. The table is UNLOGGED (see the migration): counters need no crash
safety, and skipping the WAL keeps the upsert cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, String, delete, func
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
    """Allows ``per_minute`` requests per subject and scope, in fixed one-minute windows."""

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
            rows = await _increment(session, keys)
        over = [window for hits, window in rows if hits > self.per_minute]
        if over:
            retry_after = _seconds_until(max(over) + WINDOW)
            raise TooManyRequests(
                f"Too many {scope} attempts; wait {retry_after} seconds and try again.",
                retry_after=retry_after,
            )


async def _increment(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> list[tuple[int, datetime]]:
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
    ).returning(RateLimitHit.hits, RateLimitHit.window_start)
    return [(hits, start) for hits, start in (await session.execute(stmt)).all()]


def _seconds_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - datetime.now(UTC)).total_seconds()))


async def purge_windows(session: AsyncSession, before: datetime) -> int:
    """Delete the counters of windows that started before ``before``; return how many."""
    result = await session.execute(delete(RateLimitHit).where(RateLimitHit.window_start < before))
    return int(cast(CursorResult[Any], result).rowcount)
