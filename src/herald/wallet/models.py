"""A tenant's wallet (balance, lifetime totals, billing mode) and its append-only ledger.

Amounts are integers in micro-units of the tenant's currency (1 USD = 1,000,000), the unit of
the price list, so a per-message price of 0.0075 is exact. Ledger amounts are signed: a debit
is negative, a purchase or refund positive, an adjustment either; so the sum of a tenant's
ledger is its balance.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, IdMixin, str_enum, utcnow

MICROS = 1_000_000
"""Micro-units in one unit of a currency."""


class BillingMode(StrEnum):
    """``postpaid``: costs are recorded and owed, sends are never refused for credit;
    ``prepaid``: a send needs credits and the balance never goes below zero."""

    postpaid = "postpaid"
    prepaid = "prepaid"


class TransactionKind(StrEnum):
    purchase = "purchase"
    debit = "debit"
    refund = "refund"
    adjustment = "adjustment"


class Wallet(IdMixin, Base):
    """One per tenant, created on first use. ``balance`` always equals the sum of the tenant's
    ledger: both change in the same statement."""

    __tablename__ = "wallets"
    __audited__ = frozenset({"billing_mode"})
    """Balances follow from the ledger (``wallet_transactions``), which is its own log."""

    tenant_id: Mapped[UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), unique=True
    )
    billing_mode: Mapped[BillingMode] = mapped_column(str_enum(BillingMode))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_purchased: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    """Debits, as a positive total."""
    lifetime_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_adjusted: Mapped[int] = mapped_column(BigInteger, default=0)
    """Signed: balance = purchased - spent + refunded + adjusted."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WalletTransaction(IdMixin, Base):
    """One ledger entry. Append-only: the app role may not update or delete these rows.

    No index on ``tenant_id`` alone: the (tenant, time) and (tenant, kind, key) indexes lead
    with it, and a planner with stale statistics would otherwise scan a tenant's whole ledger
    through it to find a batch's keys."""

    __tablename__ = "wallet_transactions"
    __audited__ = False
    """The wallet's append-only ledger."""
    __table_args__ = (
        CheckConstraint(
            "(kind = 'debit' AND amount < 0) OR (kind IN ('purchase', 'refund') AND amount > 0)"
            " OR (kind = 'adjustment' AND amount <> 0)",
            name="amount_sign",
        ),
        UniqueConstraint("tenant_id", "kind", "idempotency_key"),
        Index(
            "ix_wallet_transactions_reference",
            "tenant_id",
            "reference_type",
            "reference_id",
            postgresql_where="reference_id IS NOT NULL",
        ),
    )

    tenant_id: Mapped[UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[TransactionKind] = mapped_column(str_enum(TransactionKind))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[UUID | None]
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(100))
    """``system`` (sends), ``operator`` (the command line), ``user:<id>`` or ``api_key:<id>``."""
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    """Unique per tenant and kind: a retried debit or refund is applied once."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index(
    "ix_wallet_transactions_tenant_id_created_at",
    WalletTransaction.tenant_id,
    WalletTransaction.created_at.desc(),
    WalletTransaction.id.desc(),
)
