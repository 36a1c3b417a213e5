"""``/v1/wallet``: the balance and the ledger (Admin and up), the billing mode and
adjustments (Owner)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from herald.auth.dependencies import Admin, Owner
from herald.kit.pagination import Page, PageParams, page_of, page_params
from herald.tenant.service import get_tenant
from herald.wallet import service
from herald.wallet.schemas import (
    AdjustmentCreate,
    TransactionFilters,
    TransactionRead,
    WalletRead,
    WalletUpdate,
)

router = APIRouter(prefix="/v1/wallet", tags=["wallet"])


async def _read(auth: Admin) -> WalletRead:
    wallet = await service.get_wallet(auth.session, auth.tenant_id)
    tenant = await get_tenant(auth.session, auth.tenant_id)
    return WalletRead.of(wallet, tenant.currency)


@router.get("", response_model=WalletRead, summary="The balance, lifetime totals, billing mode")
async def read_wallet(auth: Admin) -> WalletRead:
    return await _read(auth)


@router.patch("", response_model=WalletRead, summary="Switch between postpaid and prepaid")
async def update_wallet(data: WalletUpdate, auth: Owner) -> WalletRead:
    await service.set_billing_mode(auth.session, auth.tenant_id, data.billing_mode, auth.actor)
    return await _read(auth)


@router.get(
    "/transactions", response_model=Page[TransactionRead], summary="The ledger, newest first"
)
async def list_transactions(
    auth: Admin,
    filters: Annotated[TransactionFilters, Depends()],
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[TransactionRead]:
    found = await service.list_transactions(auth.session, auth.tenant_id, filters, params)
    return page_of(found, TransactionRead)


@router.post(
    "/adjustments",
    response_model=TransactionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Correct the balance by a signed amount, with a reason",
)
async def create_adjustment(data: AdjustmentCreate, auth: Owner) -> TransactionRead:
    entry = await service.adjust(
        auth.session,
        auth.tenant_id,
        data.amount,
        reason=data.reason,
        actor=auth.actor.label or "owner",
        idempotency_key=data.idempotency_key,
    )
    return TransactionRead.model_validate(entry)
