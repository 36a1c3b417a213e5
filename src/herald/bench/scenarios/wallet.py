"""Scenario ``wallet``: ``size`` sends reserved through ``reserve_many`` by two concurrent workers.

Each run onboards two fresh prepaid tenants funded with exactly the cost of ``size`` sends, so
the balance check has work to do and ends at zero, each with a history of ``size`` earlier
(refunded) sends written by one ``INSERT … SELECT generate_series``, then ``ANALYZE``: the steady
state of a ledger autovacuum keeps statistics for. Timed: the batches (``BATCH`` items each,
one transaction per batch, as a dispatch worker makes them) through ``reserve_many`` in
tenant-scoped sessions (row-level security on), with its idempotency check and prefix logic.
Baseline: the same batches written by the plainest correct statement, run as the owner: one
conditional ``UPDATE`` of the balance and one ``INSERT … SELECT unnest`` of the ledger rows,
without idempotency. Both are checked: balance zero, ``size`` debits, ledger sum = balance.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from sqlalchemy import text

from herald.bench.types import BenchContext, Measurement
from herald.kit.ids import new_id
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate
from herald.wallet import service
from herald.wallet.models import BillingMode

PRICE = 7_500
BATCH = 500
WORKERS = 2

Batch = list[tuple[UUID, int, str]]

BASELINE = text(
    """
    WITH items AS (
      SELECT * FROM unnest(CAST(:refs AS uuid[]), CAST(:keys AS text[]))
        WITH ORDINALITY AS i(reference_id, key, ord)
    ), w AS (
      UPDATE wallets SET balance = balance - :total, lifetime_spent = lifetime_spent + :total
      WHERE tenant_id = :tenant_id AND balance >= :total
      RETURNING balance + :total AS before
    )
    INSERT INTO wallet_transactions (id, tenant_id, kind, amount, balance_after, reference_type,
      reference_id, actor, idempotency_key, created_at)
    SELECT gen_random_uuid(), :tenant_id, 'debit', -:price, w.before - :price * i.ord, 'message',
      i.reference_id, 'system', i.key, now()
    FROM w, items i
    """
)

HISTORY = text(
    """
    INSERT INTO wallet_transactions (id, tenant_id, kind, amount, balance_after, reference_type,
      reference_id, actor, idempotency_key, created_at)
    SELECT gen_random_uuid(), :tenant_id, kind, amount, 0, 'message', gen_random_uuid(), 'system',
      'old:' || n, now() - interval '30 days' + make_interval(secs => n)
    FROM generate_series(1, :count) AS n,
      (VALUES ('debit', -1), ('refund', 1)) AS e(kind, amount)
    """
)
"""Past sends, each debited and refunded, so the ledger sums to the balance."""

CHECK = text(
    "SELECT w.balance, count(t.id), coalesce(sum(t.amount), 0) FROM wallets w "
    "LEFT JOIN wallet_transactions t ON t.tenant_id = w.tenant_id AND t.kind = 'debit' "
    "AND t.idempotency_key NOT LIKE 'old:%' "
    "WHERE w.tenant_id = :tenant_id GROUP BY w.balance"
)


async def _funded_tenant(ctx: BenchContext, name: str, size: int) -> UUID:
    async with ctx.db.system_session() as session:
        done = await onboard_tenant(session, TenantCreate(name=name), f"{new_id()}@bench.test")
    tenant_id = done.tenant.id
    async with ctx.db.tenant_session(tenant_id) as session:
        await service.set_billing_mode(session, tenant_id, BillingMode.prepaid)
        await service.credit(session, tenant_id, size * PRICE, reason="bench", actor="operator")
    async with ctx.db.system_session() as session:
        await session.execute(HISTORY, {"tenant_id": tenant_id, "count": size})
    return tenant_id


def _batches(size: int) -> list[Batch]:
    items = [(new_id(), PRICE, f"send:{n}") for n in range(size)]
    return [items[start : start + BATCH] for start in range(0, size, BATCH)]


async def _drain(batches: list[Batch], handle: Callable[[Batch], Awaitable[None]]) -> float:
    """Seconds for ``WORKERS`` concurrent workers to handle every batch."""
    queue = list(reversed(batches))

    async def worker() -> None:
        while queue:
            await handle(queue.pop())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return time.perf_counter() - started


async def _check(ctx: BenchContext, tenant_id: UUID, size: int) -> None:
    async with ctx.db.system_session() as session:
        balance, debits, total = (await session.execute(CHECK, {"tenant_id": tenant_id})).one()
    if (balance, debits, -total) != (0, size, size * PRICE):
        raise RuntimeError(f"wallet ended at {balance} with {debits} debits totalling {total}")


async def run(ctx: BenchContext, size: int) -> Measurement:
    measured = await _funded_tenant(ctx, "Wallet Bench", size)
    plain = await _funded_tenant(ctx, "Wallet Bench Baseline", size)
    async with ctx.db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE wallet_transactions"))

    async def reserve(batch: Batch) -> None:
        async with ctx.db.tenant_session(measured) as session:
            reserved = await service.reserve_many(session, measured, batch)
        if reserved.uncovered:
            raise RuntimeError(f"{len(reserved.uncovered)} sends were not covered")

    async def baseline(batch: Batch) -> None:
        params = {
            "tenant_id": plain,
            "refs": [reference_id for reference_id, _, _ in batch],
            "keys": [key for _, _, key in batch],
            "total": PRICE * len(batch),
            "price": PRICE,
        }
        async with ctx.db.system_session() as session:
            await session.execute(BASELINE, params)

    seconds = await _drain(_batches(size), reserve)
    baseline_seconds = await _drain(_batches(size), baseline)
    await _check(ctx, measured, size)
    await _check(ctx, plain, size)
    extra = {"batch": BATCH, "workers": WORKERS, "batches": -(-size // BATCH)}
    return Measurement(size, seconds, baseline_seconds, unit="sends", extra=extra)
