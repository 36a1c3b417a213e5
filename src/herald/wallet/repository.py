"""All SQL of the wallet. Every change of a balance and its ledger row is one statement that
locks the tenant's wallet row, so concurrent workers serialize on it and never read a balance
to write it back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert

from herald.kit.ids import new_id
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.wallet.models import BillingMode, TransactionKind, Wallet, WalletTransaction

_LIFETIME_COLUMN = {
    TransactionKind.purchase: "lifetime_purchased",
    TransactionKind.debit: "lifetime_spent",
    TransactionKind.refund: "lifetime_refunded",
    TransactionKind.adjustment: "lifetime_adjusted",
}
"""The lifetime total each kind moves; debits are stored negative and counted positive."""


@dataclass(frozen=True)
class Entry:
    """A ledger entry to apply: ``amount`` is signed (a debit is negative)."""

    tenant_id: UUID
    kind: TransactionKind
    amount: int
    actor: str
    reference_type: str | None = None
    reference_id: UUID | None = None
    reason: str | None = None
    idempotency_key: str | None = None

    @property
    def lifetime_delta(self) -> int:
        return -self.amount if self.kind is TransactionKind.debit else self.amount


@dataclass(frozen=True)
class Applied:
    """What the statement did: the new balance, and the ledger row's id (None when the row
    was not written because another transaction wrote one with the same key first)."""

    balance: int
    billing_mode: BillingMode
    entry_id: UUID | None


@dataclass(frozen=True)
class BatchOutcome:
    """Positions (0-based) in the batch that were charged now and that were charged earlier
    (their key is already in the ledger); the rest were not covered by the balance."""

    charged: frozenset[int]
    replayed: frozenset[int]
    balance: int


def _move(column: str, sign: str) -> str:
    """``SET`` clauses moving the balance and ``column`` by the entry's amount."""
    return (
        f"balance = balance {sign} :amount, {column} = {column} {sign} :lifetime, "
        "updated_at = now()"
    )


_APPLY = """
WITH w AS (
  UPDATE wallets SET {moves}
  WHERE tenant_id = :tenant_id
    AND (billing_mode = 'postpaid' OR :amount >= 0 OR balance + :amount >= 0)
    AND NOT EXISTS (
      SELECT 1 FROM wallet_transactions t
      WHERE t.tenant_id = :tenant_id AND t.kind = :kind
        AND t.idempotency_key = CAST(:key AS varchar))
  RETURNING balance, billing_mode
), entry AS (
  INSERT INTO wallet_transactions (id, tenant_id, kind, amount, balance_after, reference_type,
    reference_id, reason, actor, idempotency_key, created_at)
  SELECT CAST(:id AS uuid), :tenant_id, :kind, :amount, w.balance,
    CAST(:reference_type AS varchar), CAST(:reference_id AS uuid), CAST(:reason AS varchar),
    CAST(:actor AS varchar), CAST(:key AS varchar), now()
  FROM w
  ON CONFLICT (tenant_id, kind, idempotency_key) DO NOTHING
  RETURNING id
)
SELECT w.balance, w.billing_mode, (SELECT id FROM entry) AS entry_id FROM w
"""

_UNDO = "UPDATE wallets SET {moves} WHERE tenant_id = :tenant_id"

_RESERVE_BATCH = """
WITH items AS (
  SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:refs AS uuid[]), CAST(:amounts AS bigint[]),
    CAST(:keys AS varchar[])) WITH ORDINALITY AS i(id, reference_id, amount, key, ord)
), known AS (
  SELECT t.idempotency_key AS key FROM wallet_transactions t
  WHERE t.tenant_id = :tenant_id AND t.kind = 'debit'
    AND t.idempotency_key = ANY(CAST(:keys AS varchar[]))
), fresh AS (
  SELECT i.*, sum(i.amount) OVER (ORDER BY i.ord) AS running FROM items i
  WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.key = i.key)
), covered AS (
  SELECT * FROM fresh WHERE :postpaid OR running <= :balance
), total AS (
  SELECT coalesce(sum(amount), 0) AS amount FROM covered
), w AS (
  UPDATE wallets SET balance = balance - total.amount,
    lifetime_spent = lifetime_spent + total.amount, updated_at = now()
  FROM total WHERE tenant_id = :tenant_id
  RETURNING balance
), entries AS (
  INSERT INTO wallet_transactions (id, tenant_id, kind, amount, balance_after, reference_type,
    reference_id, reason, actor, idempotency_key, created_at)
  SELECT c.id, :tenant_id, 'debit', -c.amount, :balance - c.running,
    CAST(:reference_type AS varchar), c.reference_id, NULL, CAST(:actor AS varchar), c.key, now()
  FROM covered c ORDER BY c.ord
)
SELECT (SELECT balance FROM w) AS balance,
  ARRAY(SELECT ord - 1 FROM covered) AS charged,
  ARRAY(SELECT i.ord - 1 FROM items i WHERE NOT EXISTS (
    SELECT 1 FROM fresh f WHERE f.ord = i.ord)) AS replayed
"""


class WalletRepository(Repository):
    async def ensure(self, tenant_id: UUID, mode: BillingMode) -> None:
        """Create the tenant's wallet if it has none (tenants predating wallets, new ones)."""
        await self.session.execute(
            insert(Wallet)
            .values(id=new_id(), tenant_id=tenant_id, billing_mode=mode)
            .on_conflict_do_nothing(index_elements=[Wallet.tenant_id])
        )

    async def get(self, tenant_id: UUID, *, for_update: bool = False) -> Wallet | None:
        stmt = select(Wallet).where(Wallet.tenant_id == tenant_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def set_mode(self, tenant_id: UUID, mode: BillingMode) -> None:
        await self.session.execute(
            update(Wallet)
            .where(Wallet.tenant_id == tenant_id)
            .values(billing_mode=mode, updated_at=text("now()"))
        )

    async def apply(self, entry: Entry) -> Applied | None:
        """Move the balance and its lifetime total and write the ledger row, in one statement;
        nothing (None) when the wallet is missing, the key is already in the ledger, or the
        entry would take a prepaid balance below zero."""
        sql = text(_APPLY.format(moves=_move(_LIFETIME_COLUMN[entry.kind], "+")))
        row = (await self.session.execute(sql, self._params(entry))).one_or_none()
        if row is None:
            return None
        return Applied(row.balance, BillingMode(row.billing_mode), row.entry_id)

    async def undo(self, entry: Entry) -> None:
        """Take back an ``apply`` of this transaction whose ledger row lost the race for its
        key to a concurrent transaction (we still hold the wallet's row lock)."""
        sql = text(_UNDO.format(moves=_move(_LIFETIME_COLUMN[entry.kind], "-")))
        await self.session.execute(sql, self._params(entry))

    @staticmethod
    def _params(entry: Entry) -> dict[str, Any]:
        return {
            "id": new_id(),
            "tenant_id": entry.tenant_id,
            "kind": entry.kind.value,
            "amount": entry.amount,
            "lifetime": entry.lifetime_delta,
            "reference_type": entry.reference_type,
            "reference_id": entry.reference_id,
            "reason": entry.reason,
            "actor": entry.actor,
            "key": entry.idempotency_key,
        }

    async def reserve_batch(
        self,
        wallet: Wallet,
        items: Sequence[tuple[UUID, int, str]],
        *,
        reference_type: str,
        actor: str,
    ) -> BatchOutcome:
        """Debit the longest prefix of ``items`` (reference id, amount, key) that the locked
        ``wallet`` covers (all of them when postpaid), skipping keys already in the ledger:
        one statement, whatever the batch size. The caller holds the wallet's row lock, so
        ``wallet.balance`` is current and this statement sees every earlier ledger row."""
        params = {
            "tenant_id": wallet.tenant_id,
            "ids": [new_id() for _ in items],
            "refs": [reference_id for reference_id, _, _ in items],
            "amounts": [amount for _, amount, _ in items],
            "keys": [key for _, _, key in items],
            "postpaid": wallet.billing_mode is BillingMode.postpaid,
            "balance": wallet.balance,
            "reference_type": reference_type,
            "actor": actor,
        }
        row = (await self.session.execute(text(_RESERVE_BATCH), params)).one()
        return BatchOutcome(frozenset(row.charged), frozenset(row.replayed), row.balance)

    async def find_entry(
        self, tenant_id: UUID, kind: TransactionKind, key: str
    ) -> WalletTransaction | None:
        return await self.session.scalar(
            select(WalletTransaction).where(
                WalletTransaction.tenant_id == tenant_id,
                WalletTransaction.kind == kind,
                WalletTransaction.idempotency_key == key,
            )
        )

    async def get_entry(self, tenant_id: UUID, entry_id: UUID) -> WalletTransaction | None:
        return await self.session.scalar(
            select(WalletTransaction).where(
                WalletTransaction.tenant_id == tenant_id, WalletTransaction.id == entry_id
            )
        )

    async def list_entries(
        self,
        tenant_id: UUID,
        params: PageParams,
        *,
        kind: TransactionKind | None = None,
        reference_type: str | None = None,
        reference_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Slice[WalletTransaction]:
        stmt = select(WalletTransaction).where(WalletTransaction.tenant_id == tenant_id)
        if kind is not None:
            stmt = stmt.where(WalletTransaction.kind == kind)
        if reference_type is not None:
            stmt = stmt.where(WalletTransaction.reference_type == reference_type)
        if reference_id is not None:
            stmt = stmt.where(WalletTransaction.reference_id == reference_id)
        if since is not None:
            stmt = stmt.where(WalletTransaction.created_at >= since)
        if until is not None:
            stmt = stmt.where(WalletTransaction.created_at < until)
        return await self.page(
            stmt, params, WalletTransaction.created_at, WalletTransaction.id, descending=True
        )
