"""Scenario ``cost``: price one SMS to an audience of ``size`` contacts in twelve countries.

One tenant gets ``size`` contacts whose numbers spread over twelve calling codes (and a few
opted out), seeded once per bench database with one ``INSERT … SELECT generate_series``, then
``VACUUM ANALYZE``.

Timed: ``price_audience`` — the service behind ``/v1/costs/quote-audience`` — in a
tenant-scoped transaction (row-level security on): the grouping by country and the price of
each. Baseline: the irreducible part, the same audience counted per number prefix in plain
SQL, run as the owner. Each is repeated and its median kept.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from sqlalchemy import select, text

from herald.bench.types import BenchContext, Measurement
from herald.contact.models import ChannelKind, ConsentStatus, Contact
from herald.cost.service import price_audience
from herald.tenant.flows import onboard_tenant
from herald.tenant.models import Tenant
from herald.tenant.schemas import TenantCreate

TENANT_NAME = "Cost Bench"
REPEATS = 5
PROVIDER = "twilio"

SEED = text(
    """
    INSERT INTO contacts (id, tenant_id, phone_e164, sms_status, created_at, updated_at)
    SELECT gen_random_uuid(), :tenant_id,
           '+' || (ARRAY['1','44','49','33','34','39','31','55','52','91','61','81'])[1 + i % 12]
               || (2000000000 + i)::text,
           CASE WHEN i % 10 = 0 THEN 'opted_out' ELSE 'opted_in' END,
           now(), now()
    FROM generate_series(1, :count) AS i
    """
)

BASELINE = text(
    "SELECT sum(n) FROM (SELECT substr(phone_e164, 2, 3), count(*) AS n FROM contacts "
    "WHERE tenant_id = :tenant_id AND erased_at IS NULL AND sms_status <> 'opted_out' "
    "GROUP BY 1) AS prefixes"
)


async def seed(ctx: BenchContext, size: int) -> UUID:
    """The bench tenant, with its contacts inserted the first time only."""
    async with ctx.db.system_session() as session:
        existing = await session.scalar(select(Tenant.id).where(Tenant.name == TENANT_NAME))
        if existing is not None:
            return existing
        done = await onboard_tenant(session, TenantCreate(name=TENANT_NAME), "cost@bench.test")
        await session.execute(SEED, {"tenant_id": done.tenant.id, "count": size})
    async with ctx.db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE contacts"))
    return done.tenant.id


async def _median_seconds(call: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    result = await call()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def run(ctx: BenchContext, size: int) -> Measurement:
    tenant_id = await seed(ctx, size)
    countries = 0

    async def priced() -> int:
        nonlocal countries
        async with ctx.db.tenant_session(tenant_id) as session:
            cost = await price_audience(
                session,
                tenant_id,
                provider=PROVIDER,
                kind=ChannelKind.sms,
                contact_filter=Contact.sms_status != ConsentStatus.opted_out.value,
                segments_per_message=1,
            )
        countries = len(cost.countries)
        return cost.recipients

    async def baseline() -> int:
        async with ctx.db.system_session() as session:
            return int(await session.scalar(BASELINE, {"tenant_id": tenant_id}) or 0)

    seconds, recipients = await _median_seconds(priced)
    baseline_seconds, expected = await _median_seconds(baseline)
    if recipients != expected:
        raise RuntimeError(f"{recipients} recipients priced, the baseline counts {expected}")
    extra = {
        "recipients": recipients,
        "countries": countries,
        "price_ms": round(seconds * 1000, 2),
        "baseline_ms": round(baseline_seconds * 1000, 2),
        "repeats": REPEATS,
    }
    return Measurement(size, seconds, baseline_seconds, unit="contacts", extra=extra)
