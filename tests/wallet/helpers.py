"""Wallet test helpers: fund a wallet, read its state and its ledger as the owner role."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text

from herald.kit.database import Database
from herald.wallet import service
from herald.wallet.models import BillingMode

UNIT = 1_000_000


async def fund(db: Database, tenant_id: UUID, amount: int, mode: BillingMode) -> None:
    """Set the wallet's mode and credit ``amount`` micro-units."""
    async with db.tenant_session(tenant_id) as session:
        await service.set_billing_mode(session, tenant_id, mode)
        await service.credit(session, tenant_id, amount, reason="top-up", actor="operator")


async def state(db: Database, tenant_id: UUID) -> tuple[int, int, int, int]:
    """Balance, sum of the ledger, lifetime purchased and lifetime spent."""
    async with db.system_session() as session:
        row = (
            await session.execute(
                text(
                    "SELECT w.balance, (SELECT coalesce(sum(amount), 0) FROM wallet_transactions t"
                    " WHERE t.tenant_id = w.tenant_id), w.lifetime_purchased, w.lifetime_spent "
                    "FROM wallets w WHERE w.tenant_id = :t"
                ),
                {"t": tenant_id},
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


async def count_entries(db: Database, tenant_id: UUID, kind: str) -> int:
    async with db.system_session() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM wallet_transactions WHERE tenant_id = :t AND kind = :k"),
            {"t": tenant_id, "k": kind},
        )
    return int(found or 0)
