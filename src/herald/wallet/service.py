"""The wallet's rules: reservations for sends, refunds of failed ones, purchases, adjustments.

Every function changes the balance, its lifetime total and the ledger in one statement of the
caller's transaction (services never commit). In ``prepaid`` mode a send is refused (402) when
the balance does not cover it; in ``postpaid`` mode it always goes through and a negative
balance is what the tenant owes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.audit import service as audit
from herald.kit.context import Actor
from herald.kit.errors import BadRequest, Conflict, Forbidden, HeraldError, Unprocessable
from herald.kit.pagination import PageParams, Slice
from herald.settings import get_settings
from herald.wallet.models import (
    MICROS,
    BillingMode,
    TransactionKind,
    Wallet,
    WalletTransaction,
)
from herald.wallet.repository import Applied, Entry, WalletRepository
from herald.wallet.schemas import MAX_ADJUSTMENT as MAX_AMOUNT
from herald.wallet.schemas import TransactionFilters, display

SYSTEM_ACTOR = "system"
"""The ledger's actor for the send pipeline's own entries."""
OPERATOR_ACTOR = "operator"
"""The ledger's actor for the operator's command line."""


class PaymentRequired(HeraldError):
    status, title = 402, "Payment required"


@dataclass(frozen=True)
class Reservation:
    """A debit in the ledger. ``replayed``: the key had been used, nothing was charged again."""

    transaction_id: UUID
    amount: int
    balance_after: int
    billing_mode: BillingMode
    replayed: bool = False


@dataclass(frozen=True)
class BatchItem:
    reference_id: UUID
    amount: int
    idempotency_key: str


@dataclass(frozen=True)
class ReservedBatch:
    """``reserved`` were charged now; ``replayed`` had been charged by an earlier call with the
    same keys; ``uncovered`` (prepaid only) were not charged: the balance ran out before them."""

    reserved: list[BatchItem]
    replayed: list[BatchItem]
    uncovered: list[BatchItem]
    balance: int


def parse_amount(text: str) -> int:
    """``"25.00"`` (units of the currency) → micro-units, refusing what is not exact."""
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or value.as_tuple().exponent < -6:  # type: ignore[operator]
        raise BadRequest(
            f"{text!r} is not an amount: write a decimal number with at most 6 decimals, "
            "e.g. 25.00."
        )
    return int(value * MICROS)


def check_amount(amount: int, what: str) -> None:
    """Refuse a zero, negative or absurd amount before it reaches the ledger's constraints."""
    if not 0 < amount <= MAX_AMOUNT:
        raise BadRequest(
            f"The {what} amount must be a positive number of micro-units up to {MAX_AMOUNT}; "
            f"got {amount}."
        )


async def get_wallet(session: AsyncSession, tenant_id: UUID, *, for_update: bool = False) -> Wallet:
    """The tenant's wallet, created with the operator's default billing mode on first use
    (tenants that predate wallets work as new ones do)."""
    repo = WalletRepository(session)
    wallet = await repo.get(tenant_id, for_update=for_update)
    if wallet is None:
        await repo.ensure(tenant_id, _default_mode())
        wallet = await repo.get(tenant_id, for_update=for_update)
    assert wallet is not None  # created just above, in this transaction
    return wallet


def _default_mode() -> BillingMode:
    return BillingMode(get_settings().default_billing)


async def set_billing_mode(
    session: AsyncSession, tenant_id: UUID, mode: BillingMode, actor: Actor | None = None
) -> Wallet:
    """Switch between postpaid and prepaid; the balance is kept as it is (a postpaid debt
    stays owed, so a prepaid wallet with a negative balance sends nothing until topped up)."""
    previous = (await get_wallet(session, tenant_id)).billing_mode
    repo = WalletRepository(session)
    if previous is not mode:
        await repo.set_mode(tenant_id, mode)
        await audit.record(
            session,
            "wallet.billing_mode_changed",
            Wallet.__tablename__,
            tenant_id,
            changes={"billing_mode": {"old": previous.value, "new": mode.value}},
            tenant_id=tenant_id,
            actor=actor,
        )
    wallet = await repo.get(tenant_id)
    assert wallet is not None
    return wallet


async def _apply(session: AsyncSession, entry: Entry) -> WalletTransaction | Applied:
    """Apply ``entry`` once per idempotency key: the new ledger state, or the entry an earlier
    call with the same key wrote. Raises when a prepaid balance does not cover it."""
    repo = WalletRepository(session)
    applied = await repo.apply(entry)
    if applied is None and await repo.get(entry.tenant_id) is None:
        await repo.ensure(entry.tenant_id, _default_mode())
        applied = await repo.apply(entry)
    if applied is not None and applied.entry_id is not None:
        return applied
    if applied is not None:
        await repo.undo(entry)
    if entry.idempotency_key is not None:
        earlier = await repo.find_entry(entry.tenant_id, entry.kind, entry.idempotency_key)
        if earlier is not None:
            return _same_as(earlier, entry)
    wallet = await repo.get(entry.tenant_id)
    assert wallet is not None
    raise PaymentRequired(
        f"The balance ({display(wallet.balance)}) does not cover {display(-entry.amount)}: "
        "add credits to the wallet, or switch it to postpaid billing.",
        balance=wallet.balance,
        amount=-entry.amount,
    )


def _same_as(earlier: WalletTransaction, entry: Entry) -> WalletTransaction:
    """A key is reused by a retry of the same operation; with another amount or reference it
    is a caller's mistake that must not pass silently."""
    if (earlier.amount, earlier.reference_id) != (entry.amount, entry.reference_id):
        raise Conflict(
            f"The idempotency key {entry.idempotency_key!r} was already used for a "
            f"{earlier.kind.value} of {display(earlier.amount)} (reference "
            f"{earlier.reference_id}); use a new key for a different operation."
        )
    return earlier


async def _entry_of(
    session: AsyncSession, tenant_id: UUID, outcome: WalletTransaction | Applied
) -> WalletTransaction:
    if isinstance(outcome, WalletTransaction):
        return outcome
    assert outcome.entry_id is not None
    found = await WalletRepository(session).get_entry(tenant_id, outcome.entry_id)
    assert found is not None
    return found


async def reserve(
    session: AsyncSession,
    tenant_id: UUID,
    amount: int,
    *,
    reference_type: str,
    reference_id: UUID,
    idempotency_key: str,
) -> Reservation:
    """Debit a send's cost before it goes out (one statement; a prepaid balance that does not
    cover it raises ``PaymentRequired``). A retry with the same key charges nothing again."""
    check_amount(amount, "reservation")
    entry = Entry(
        tenant_id,
        TransactionKind.debit,
        -amount,
        SYSTEM_ACTOR,
        reference_type=reference_type,
        reference_id=reference_id,
        idempotency_key=idempotency_key,
    )
    outcome = await _apply(session, entry)
    if isinstance(outcome, Applied):
        assert outcome.entry_id is not None
        return Reservation(outcome.entry_id, amount, outcome.balance, outcome.billing_mode)
    wallet = await get_wallet(session, tenant_id)
    return Reservation(outcome.id, amount, outcome.balance_after, wallet.billing_mode, True)


async def reserve_many(
    session: AsyncSession,
    tenant_id: UUID,
    items: Sequence[tuple[UUID, int, str]],
    *,
    reference_type: str = "message",
) -> ReservedBatch:
    """Reserve a dispatch batch, in its order: in prepaid mode the longest prefix the balance
    covers, the rest reported ``uncovered``; items whose key is already in the ledger are not
    charged again. Two statements for the whole batch: the wallet's row lock, then one
    ``INSERT … SELECT`` from the arrays of the batch with the balance update."""
    batch = [BatchItem(*item) for item in items]
    for item in batch:
        check_amount(item.amount, "reservation")
    if len({item.idempotency_key for item in batch}) != len(batch):
        raise BadRequest("Each item of a batch needs its own idempotency key; some repeat.")
    repo = WalletRepository(session)
    wallet = await get_wallet(session, tenant_id, for_update=True)
    if not batch:
        return ReservedBatch([], [], [], wallet.balance)
    outcome = await repo.reserve_batch(
        wallet,
        [(i.reference_id, i.amount, i.idempotency_key) for i in batch],
        reference_type=reference_type,
        actor=SYSTEM_ACTOR,
    )
    return ReservedBatch(
        reserved=[item for n, item in enumerate(batch) if n in outcome.charged],
        replayed=[item for n, item in enumerate(batch) if n in outcome.replayed],
        uncovered=[
            item
            for n, item in enumerate(batch)
            if n not in outcome.charged and n not in outcome.replayed
        ],
        balance=outcome.balance,
    )


async def refund(
    session: AsyncSession,
    tenant_id: UUID,
    amount: int,
    *,
    reference_type: str,
    reference_id: UUID,
    idempotency_key: str,
    reason: str,
) -> WalletTransaction:
    """Give back a send's cost (a permanent failure). Once per key: a second call returns the
    first refund and changes nothing."""
    check_amount(amount, "refund")
    entry = Entry(
        tenant_id,
        TransactionKind.refund,
        amount,
        SYSTEM_ACTOR,
        reference_type=reference_type,
        reference_id=reference_id,
        reason=reason[:500],
        idempotency_key=idempotency_key,
    )
    return await _entry_of(session, tenant_id, await _apply(session, entry))


async def credit(
    session: AsyncSession,
    tenant_id: UUID,
    amount: int,
    *,
    reason: str,
    actor: str,
    idempotency_key: str | None = None,
) -> WalletTransaction:
    """Add purchased credits (the operator's top-up today; payments later)."""
    check_amount(amount, "credit")
    entry = Entry(
        tenant_id,
        TransactionKind.purchase,
        amount,
        actor,
        reason=_required(reason),
        idempotency_key=idempotency_key,
    )
    return await _entry_of(session, tenant_id, await _apply(session, entry))


async def adjust(
    session: AsyncSession,
    tenant_id: UUID,
    amount: int,
    *,
    reason: str,
    actor: str,
    by_operator: bool = False,
    idempotency_key: str | None = None,
) -> WalletTransaction:
    """Correct the balance by a signed amount, with a reason. A tenant's Owner may not add
    credits to a prepaid wallet (that is buying them); the operator may. In prepaid mode no
    adjustment takes the balance below zero."""
    if amount == 0 or abs(amount) > MAX_AMOUNT:
        raise BadRequest(f"An adjustment is a non-zero amount of micro-units up to ±{MAX_AMOUNT}.")
    wallet = await get_wallet(session, tenant_id)
    if amount > 0 and wallet.billing_mode is BillingMode.prepaid and not by_operator:
        raise Forbidden(
            "Credits of a prepaid wallet are bought, not adjusted: ask the operator for a "
            "top-up (herald wallet credit), or adjust by a negative amount."
        )
    entry = Entry(
        tenant_id,
        TransactionKind.adjustment,
        amount,
        actor,
        reason=_required(reason),
        idempotency_key=idempotency_key,
    )
    try:
        outcome = await _apply(session, entry)
    except PaymentRequired as exc:
        raise Unprocessable(
            f"The adjustment would take the prepaid balance ({display(wallet.balance)}) below "
            "zero; adjust by less."
        ) from exc
    return await _entry_of(session, tenant_id, outcome)


def _required(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise BadRequest("A reason is required: say why the balance changes.")
    return reason[:500]


async def list_transactions(
    session: AsyncSession, tenant_id: UUID, filters: TransactionFilters, params: PageParams
) -> Slice[WalletTransaction]:
    """The ledger, newest first."""
    return await WalletRepository(session).list_entries(
        tenant_id,
        params,
        kind=filters.kind,
        reference_type=filters.reference_type,
        reference_id=filters.reference_id,
        since=filters.since,
        until=filters.until,
    )
