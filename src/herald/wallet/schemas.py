"""The wallet's API shapes. Amounts are integers in micro-units (1 USD = 1,000,000); each has a
``*_display`` twin, a decimal string in the currency for people."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from herald.wallet.models import MICROS, BillingMode, TransactionKind, Wallet

MAX_ADJUSTMENT = 10**15
"""A billion units of a currency: larger adjustments are typing mistakes."""


def display(micros: int) -> str:
    """Micro-units as a decimal for people: ``12500000`` → ``"12.50"``, ``7500`` → ``"0.0075"``
    (two decimals at least, more only where they are not zero)."""
    text = f"{Decimal(micros) / MICROS:.6f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


class WalletRead(BaseModel):
    currency: str
    billing_mode: BillingMode
    balance: int
    lifetime_purchased: int
    lifetime_spent: int
    lifetime_refunded: int
    lifetime_adjusted: int
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def balance_display(self) -> str:
        return display(self.balance)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lifetime_purchased_display(self) -> str:
        return display(self.lifetime_purchased)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lifetime_spent_display(self) -> str:
        return display(self.lifetime_spent)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lifetime_refunded_display(self) -> str:
        return display(self.lifetime_refunded)

    @classmethod
    def of(cls, wallet: Wallet, currency: str) -> WalletRead:
        return cls(
            currency=currency,
            billing_mode=wallet.billing_mode,
            balance=wallet.balance,
            lifetime_purchased=wallet.lifetime_purchased,
            lifetime_spent=wallet.lifetime_spent,
            lifetime_refunded=wallet.lifetime_refunded,
            lifetime_adjusted=wallet.lifetime_adjusted,
            updated_at=wallet.updated_at,
        )


class TransactionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: TransactionKind
    amount: int
    balance_after: int
    reference_type: str | None
    reference_id: UUID | None
    reason: str | None
    actor: str
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def amount_display(self) -> str:
        return display(self.amount)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def balance_after_display(self) -> str:
        return display(self.balance_after)


class TransactionFilters(BaseModel):
    kind: TransactionKind | None = None
    reference_type: str | None = Field(default=None, max_length=40)
    reference_id: UUID | None = None
    since: datetime | None = None
    """Inclusive."""
    until: datetime | None = None
    """Exclusive."""


class WalletUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    billing_mode: BillingMode


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class AdjustmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(
        ge=-MAX_ADJUSTMENT,
        le=MAX_ADJUSTMENT,
        description="Signed micro-units (1 unit of the currency = 1,000,000); not zero.",
    )
    reason: Reason
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Send the same key when retrying, so the adjustment is applied once.",
    )
