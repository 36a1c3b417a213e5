"""The wallet's contract with the send pipeline: atomic reservations, refunds once, totals and
ledger always agreeing, under concurrent workers."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from herald.kit.database import Database
from herald.kit.errors import BadRequest, Conflict, Forbidden, Unprocessable
from herald.settings import get_settings
from herald.wallet import service
from herald.wallet.models import BillingMode
from herald.wallet.service import PaymentRequired
from tests.conftest import TenantFixture
from tests.wallet.helpers import UNIT, count_entries, fund, state

PRICE = 7_500
"""0.0075 in micro-units: a typical SMS price."""


async def _reserve(db: Database, tenant_id: UUID, key: str) -> bool:
    """One worker's reservation in its own transaction: True if charged."""
    try:
        async with db.tenant_session(tenant_id) as session:
            await service.reserve(
                session,
                tenant_id,
                PRICE,
                reference_type="message",
                reference_id=uuid4(),
                idempotency_key=key,
            )
    except PaymentRequired:
        return False
    return True


async def test_a_new_wallet_is_postpaid_and_empty(db: Database, tenant: TenantFixture) -> None:
    async with db.tenant_session(tenant.id) as session:
        wallet = await service.get_wallet(session, tenant.id)

    assert (wallet.billing_mode, wallet.balance) == (BillingMode.postpaid, 0)


async def test_new_wallets_take_the_operators_default_billing(
    db: Database, tenant: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERALD_DEFAULT_BILLING", "prepaid")
    get_settings.cache_clear()
    try:
        with pytest.raises(PaymentRequired):
            async with db.tenant_session(tenant.id) as session:
                await service.reserve(
                    session,
                    tenant.id,
                    PRICE,
                    reference_type="message",
                    reference_id=uuid4(),
                    idempotency_key="first-send",
                )
        async with db.tenant_session(tenant.id) as session:
            wallet = await service.get_wallet(session, tenant.id)
    finally:
        get_settings.cache_clear()

    assert (wallet.billing_mode, wallet.balance) == (BillingMode.prepaid, 0)


async def test_concurrent_reservations_never_overdraw_prepaid(
    db: Database, tenant: TenantFixture
) -> None:
    await fund(db, tenant.id, 7 * PRICE + PRICE // 2, BillingMode.prepaid)

    outcomes = await asyncio.gather(*(_reserve(db, tenant.id, f"m{n}") for n in range(20)))

    assert outcomes.count(True) == 7
    balance, ledger, purchased, spent = await state(db, tenant.id)
    assert balance == PRICE // 2 == purchased - spent == ledger
    assert spent == 7 * PRICE
    assert await count_entries(db, tenant.id, "debit") == 7


async def test_postpaid_goes_negative_without_refusing(db: Database, tenant: TenantFixture) -> None:
    outcomes = await asyncio.gather(*(_reserve(db, tenant.id, f"m{n}") for n in range(5)))

    assert all(outcomes)
    balance, ledger, _, spent = await state(db, tenant.id)
    assert balance == ledger == -5 * PRICE
    assert spent == 5 * PRICE


async def test_short_balance_is_a_402_naming_balance_and_amount(
    db: Database, tenant: TenantFixture
) -> None:
    await fund(db, tenant.id, UNIT, BillingMode.prepaid)

    with pytest.raises(PaymentRequired) as refused:
        async with db.tenant_session(tenant.id) as session:
            await service.reserve(
                session,
                tenant.id,
                2 * UNIT,
                reference_type="message",
                reference_id=uuid4(),
                idempotency_key="big",
            )

    assert refused.value.status == 402
    assert "1.00" in refused.value.detail and "2.00" in refused.value.detail
    assert refused.value.extra == {"balance": UNIT, "amount": 2 * UNIT}


async def test_a_retried_reservation_is_charged_once(db: Database, tenant: TenantFixture) -> None:
    message = uuid4()
    async with db.tenant_session(tenant.id) as session:
        first = await service.reserve(
            session,
            tenant.id,
            PRICE,
            reference_type="message",
            reference_id=message,
            idempotency_key="send:1",
        )
    async with db.tenant_session(tenant.id) as session:
        again = await service.reserve(
            session,
            tenant.id,
            PRICE,
            reference_type="message",
            reference_id=message,
            idempotency_key="send:1",
        )

    assert (again.transaction_id, again.replayed, first.replayed) == (
        first.transaction_id,
        True,
        False,
    )
    assert (await state(db, tenant.id))[0] == -PRICE


async def _refund(db: Database, tenant_id: UUID, message: UUID) -> UUID:
    async with db.tenant_session(tenant_id) as session:
        entry = await service.refund(
            session,
            tenant_id,
            PRICE,
            reference_type="message",
            reference_id=message,
            idempotency_key=f"refund:{message}",
            reason="permanent failure",
        )
        return entry.id


async def test_refund_is_applied_once_even_concurrently(
    db: Database, tenant: TenantFixture
) -> None:
    message = uuid4()
    await fund(db, tenant.id, UNIT, BillingMode.prepaid)

    ids = await asyncio.gather(*(_refund(db, tenant.id, message) for _ in range(6)))
    ids.append(await _refund(db, tenant.id, message))

    assert len(set(ids)) == 1
    balance, ledger, _, _ = await state(db, tenant.id)
    assert balance == ledger == UNIT + PRICE
    assert await count_entries(db, tenant.id, "refund") == 1
    async with db.system_session() as session:
        refunded = await session.scalar(
            text("SELECT lifetime_refunded FROM wallets WHERE tenant_id = :t"), {"t": tenant.id}
        )
    assert refunded == PRICE


async def test_a_key_reused_for_another_amount_is_refused(
    db: Database, tenant: TenantFixture
) -> None:
    message = uuid4()
    await _refund(db, tenant.id, message)

    with pytest.raises(Conflict, match="already used"):
        async with db.tenant_session(tenant.id) as session:
            await service.refund(
                session,
                tenant.id,
                2 * PRICE,
                reference_type="message",
                reference_id=message,
                idempotency_key=f"refund:{message}",
                reason="again",
            )


async def _batch(db: Database, tenant_id: UUID, worker: str) -> service.ReservedBatch:
    items = [(uuid4(), PRICE, f"{worker}:{n}") for n in range(10)]
    async with db.tenant_session(tenant_id) as session:
        return await service.reserve_many(session, tenant_id, items)


async def test_reserve_many_reserves_the_covered_prefix(
    db: Database, tenant: TenantFixture
) -> None:
    await fund(db, tenant.id, 4 * PRICE, BillingMode.prepaid)
    items = [(uuid4(), PRICE, "a"), (uuid4(), 2 * PRICE, "b"), (uuid4(), 2 * PRICE, "c")]
    items.append((uuid4(), PRICE, "d"))

    async with db.tenant_session(tenant.id) as session:
        batch = await service.reserve_many(session, tenant.id, items)

    assert [i.idempotency_key for i in batch.reserved] == ["a", "b"]
    assert [i.idempotency_key for i in batch.uncovered] == ["c", "d"]
    assert batch.balance == PRICE
    async with db.system_session() as session:
        after = (
            await session.scalars(
                text(
                    "SELECT balance_after FROM wallet_transactions WHERE tenant_id = :t "
                    "AND kind = 'debit' ORDER BY id"
                ),
                {"t": tenant.id},
            )
        ).all()
    assert list(after) == [3 * PRICE, PRICE]


async def test_reserve_many_replays_keys_already_charged(
    db: Database, tenant: TenantFixture
) -> None:
    items = [(uuid4(), PRICE, f"k{n}") for n in range(3)]
    async with db.tenant_session(tenant.id) as session:
        await service.reserve_many(session, tenant.id, items[:2])
    async with db.tenant_session(tenant.id) as session:
        batch = await service.reserve_many(session, tenant.id, items)

    assert [i.idempotency_key for i in batch.replayed] == ["k0", "k1"]
    assert [i.idempotency_key for i in batch.reserved] == ["k2"]
    balance, ledger, _, spent = await state(db, tenant.id)
    assert balance == ledger == -3 * PRICE == -spent


async def test_two_workers_reserving_batches_never_overdraw(
    db: Database, tenant: TenantFixture
) -> None:
    await fund(db, tenant.id, 15 * PRICE, BillingMode.prepaid)

    first, second = await asyncio.gather(_batch(db, tenant.id, "w1"), _batch(db, tenant.id, "w2"))

    assert len(first.reserved) + len(second.reserved) == 15
    assert len(first.uncovered) + len(second.uncovered) == 5
    balance, ledger, purchased, spent = await state(db, tenant.id)
    assert balance == ledger == purchased - spent == 0


async def test_reserve_many_refuses_repeated_keys(db: Database, tenant: TenantFixture) -> None:
    with pytest.raises(BadRequest, match="its own idempotency key"):
        async with db.tenant_session(tenant.id) as session:
            await service.reserve_many(
                session, tenant.id, [(uuid4(), PRICE, "same"), (uuid4(), PRICE, "same")]
            )


async def test_an_owner_may_not_add_credits_to_a_prepaid_wallet(
    db: Database, tenant: TenantFixture
) -> None:
    await fund(db, tenant.id, UNIT, BillingMode.prepaid)

    with pytest.raises(Forbidden):
        async with db.tenant_session(tenant.id) as session:
            await service.adjust(session, tenant.id, UNIT, reason="free", actor="user:x")
    with pytest.raises(Unprocessable, match="below zero"):
        async with db.tenant_session(tenant.id) as session:
            await service.adjust(session, tenant.id, -2 * UNIT, reason="write-off", actor="x")
    async with db.tenant_session(tenant.id) as session:
        await service.adjust(
            session, tenant.id, UNIT, reason="goodwill", actor="operator", by_operator=True
        )

    balance, ledger, _, _ = await state(db, tenant.id)
    assert balance == ledger == 2 * UNIT


async def test_the_ledger_is_append_only_for_the_app_role(
    db: Database, tenant: TenantFixture
) -> None:
    await fund(db, tenant.id, UNIT, BillingMode.postpaid)

    for statement in (
        "UPDATE wallet_transactions SET amount = 1",
        "DELETE FROM wallet_transactions",
        "DELETE FROM wallets",
    ):
        with pytest.raises(ProgrammingError, match="permission denied"):
            async with db.tenant_session(tenant.id) as session:
                await session.execute(text(statement))


async def test_rls_hides_other_tenants_wallets_without_a_filter(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    await fund(db, tenant.id, UNIT, BillingMode.postpaid)
    await fund(db, other_tenant.id, 2 * UNIT, BillingMode.postpaid)

    async with db.tenant_session(other_tenant.id) as session:
        wallets = (await session.execute(text("SELECT tenant_id FROM wallets"))).all()
        entries = (
            await session.execute(text("SELECT DISTINCT tenant_id FROM wallet_transactions"))
        ).all()

    assert [row[0] for row in wallets] == [other_tenant.id]
    assert [row[0] for row in entries] == [other_tenant.id]


@pytest.mark.parametrize(
    ("text_amount", "micros"), [("25.00", 25 * UNIT), ("0.0075", PRICE), ("3", 3 * UNIT)]
)
def test_amounts_parse_exactly(text_amount: str, micros: int) -> None:
    assert service.parse_amount(text_amount) == micros


@pytest.mark.parametrize("text_amount", ["1.0000001", "ten", "inf", ""])
def test_inexact_amounts_are_refused(text_amount: str) -> None:
    with pytest.raises(BadRequest, match="at most 6 decimals"):
        service.parse_amount(text_amount)
