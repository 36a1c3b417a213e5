"""Scenario ``segment``: preview count of a 3-condition segment over ``size`` contacts.

One tenant gets ``size`` contacts and a second tenant a quarter as many with the same spread
of values, so the tenant filter has work to do. Both are seeded once per bench database with
one set-based ``INSERT … SELECT generate_series`` each, then ``VACUUM ANALYZE``:
the steady state autovacuum keeps a table in (statistics and visibility map up to date).

Timed: ``count_matching`` — the service function behind ``/v1/segments/preview`` — in a
tenant-scoped transaction (row-level security on), including its tenant lookup and the rules'
validation and compilation. Baseline: the same count as the plainest hand-written
``SELECT count(*) … WHERE …``, run as the owner. Each is repeated and its median kept.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from sqlalchemy import select, text

from herald.bench.types import BenchContext, Measurement
from herald.segment.service import count_matching
from herald.tenant.flows import onboard_tenant
from herald.tenant.models import Tenant
from herald.tenant.schemas import TenantCreate

TENANT_NAME = "Segment Bench"
OTHER_TENANT_NAME = "Segment Bench Neighbour"
REPEATS = 7
DAYS = 90

RULES: dict[str, Any] = {
    "all": [
        {"field": "sms_status", "op": "eq", "value": "opted_in"},
        {"field": "tags", "op": "any", "value": ["vip"]},
        {"field": "created_at", "op": "within_last_days", "value": DAYS},
    ]
}

BASELINE = text(
    "SELECT count(*) FROM contacts WHERE tenant_id = :tenant_id AND erased_at IS NULL "
    "AND sms_status = 'opted_in' AND tags && ARRAY['vip'] "
    "AND created_at >= now() - make_interval(days => :days)"
)
"""What the segment means, written by hand (segments never include erased contacts)."""

# Deterministic, well-spread values: each column draws from its own hash of the row number
# (0 … 2^32-1), so tags, consent, dates and custom fields are independent of one another.
SEED = text(
    """
    WITH numbered AS (
        SELECT :offset + i AS n,
               hashint8((:offset + i) * 16 + 1)::bigint + 2147483648 AS h1,
               hashint8((:offset + i) * 16 + 2)::bigint + 2147483648 AS h2,
               hashint8((:offset + i) * 16 + 3)::bigint + 2147483648 AS h3,
               hashint8((:offset + i) * 16 + 4)::bigint + 2147483648 AS h4,
               hashint8((:offset + i) * 16 + 5)::bigint + 2147483648 AS h5,
               hashint8((:offset + i) * 16 + 6)::bigint + 2147483648 AS h6,
               hashint8((:offset + i) * 16 + 7)::bigint + 2147483648 AS h7
        FROM generate_series(1, :count) AS i
    )
    INSERT INTO contacts (
        id, tenant_id, phone_e164, email, first_name, last_name, gender, birth_date,
        tags, custom_fields, source, sms_status, whatsapp_status, created_at, updated_at
    )
    SELECT
        gen_random_uuid(), :tenant_id,
        '+1' || (2000000000 + n)::text,
        CASE WHEN h1 % 2 = 0 THEN 'c' || n || '@bench.test' END,
        (ARRAY['Ana','Bob','Cid','Dee','Eli','Fay','Gus','Hal'])[1 + h1 / 2 % 8],
        (ARRAY['Smith','Jones','Brown','Lee','Garcia','Martin'])[1 + h1 / 16 % 6],
        (ARRAY['female','male','other','unknown'])[1 + h2 % 4],
        CASE WHEN h2 / 4 % 10 < 8 THEN DATE '1950-01-01' + (h2 / 40 % 20000)::int END,
        CASE h3 % 20
            WHEN 0 THEN ARRAY['vip','newsletter']
            WHEN 1 THEN ARRAY['vip']
            WHEN 2 THEN ARRAY['newsletter','shopify']
            WHEN 3 THEN ARRAY['newsletter']
            WHEN 4 THEN ARRAY['shopify']
            WHEN 5 THEN ARRAY['wholesale']
            ELSE ARRAY[]::text[]
        END,
        jsonb_build_object(
            'orders', h4 % 50, 'plan', (ARRAY['gold','silver','bronze'])[1 + h4 / 50 % 3]
        ),
        (ARRAY['import','api','shopify','form'])[1 + h4 / 150 % 4],
        (ARRAY['opted_in','opted_in','opted_in','opted_in','implied','unknown','unknown',
               'unknown','unknown','opted_out'])[1 + h5 % 10],
        (ARRAY['opted_in','unknown','unknown','opted_out'])[1 + h6 % 4],
        now() - make_interval(mins => (h7 % (730 * 1440))::int),
        now()
    FROM numbered
    """
)


async def _tenant(ctx: BenchContext, name: str) -> tuple[UUID, bool]:
    """The bench tenant called ``name`` and whether it was just created (and needs rows)."""
    async with ctx.db.system_session() as session:
        existing = await session.scalar(select(Tenant.id).where(Tenant.name == name))
        if existing is not None:
            return existing, False
        done = await onboard_tenant(
            session, TenantCreate(name=name), f"{name.lower().replace(' ', '-')}@bench.test"
        )
        return done.tenant.id, True


async def seed(ctx: BenchContext, size: int) -> UUID:
    """Seed both tenants once per database; later runs reuse the rows."""
    tenant_id, fresh = await _tenant(ctx, TENANT_NAME)
    other_id, other_fresh = await _tenant(ctx, OTHER_TENANT_NAME)
    if fresh or other_fresh:
        async with ctx.db.system_session() as session:
            await session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            await session.execute(SEED, {"tenant_id": tenant_id, "offset": 0, "count": size})
            await session.execute(
                SEED, {"tenant_id": other_id, "offset": size, "count": max(size // 4, 1)}
            )
        async with ctx.db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE contacts"))
    return tenant_id


async def _median_seconds(call: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    """Median wall time of ``REPEATS`` calls after one warm-up call, and the count returned."""
    result = await call()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def run(ctx: BenchContext, size: int) -> Measurement:
    tenant_id = await seed(ctx, size)

    async def preview_count() -> int:
        async with ctx.db.tenant_session(tenant_id) as session:
            return await count_matching(session, tenant_id, RULES)

    async def baseline_count() -> int:
        async with ctx.db.system_session() as session:
            found = await session.scalar(BASELINE, {"tenant_id": tenant_id, "days": DAYS})
            return int(found or 0)

    seconds, count = await _median_seconds(preview_count)
    baseline_seconds, expected = await _median_seconds(baseline_count)
    if count != expected:
        raise RuntimeError(f"segment count {count} differs from the baseline's {expected}")
    extra = {
        "matching": count,
        "count_ms": round(seconds * 1000, 2),
        "baseline_ms": round(baseline_seconds * 1000, 2),
        "repeats": REPEATS,
    }
    return Measurement(size, seconds, baseline_seconds, unit="contacts", extra=extra)
