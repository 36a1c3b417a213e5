"""``herald wallet``: the operator's top-ups, a wallet's state, the billing mode."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer

from herald.kit.console import console, emit_json
from herald.kit.database import Database
from herald.kit.errors import HeraldError
from herald.runtime.database import run_with_database
from herald.tenant.service import get_tenant
from herald.wallet import service
from herald.wallet.models import BillingMode
from herald.wallet.schemas import TransactionRead, WalletRead

app = typer.Typer(help="Tenants' credit wallets.", no_args_is_help=True)

TenantId = Annotated[UUID, typer.Argument(help="The tenant's id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _run(work: Any, param_hint: str = "TENANT_ID") -> Any:
    try:
        return run_with_database(work)
    except HeraldError as exc:
        raise typer.BadParameter(exc.detail, param_hint=param_hint) from exc


async def _view(db: Database, tenant_id: UUID) -> WalletRead:
    async with db.tenant_session(tenant_id) as session:
        tenant = await get_tenant(session, tenant_id)
        return WalletRead.of(await service.get_wallet(session, tenant_id), tenant.currency)


def _print(view: WalletRead, as_json: bool) -> None:
    if as_json:
        emit_json(view.model_dump(mode="json"))
        return
    console.print(
        f"Balance [bold]{view.balance_display} {view.currency}[/] ({view.billing_mode.value}); "
        f"purchased {view.lifetime_purchased_display}, spent {view.lifetime_spent_display}, "
        f"refunded {view.lifetime_refunded_display}."
    )


@app.command("credit")
def credit(
    tenant_id: TenantId,
    amount: Annotated[str, typer.Argument(help="In the tenant's currency, e.g. 25.00.")],
    reason: Annotated[str, typer.Option(help="Why, kept in the ledger.")],
    as_json: AsJson = False,
) -> None:
    """Top up a tenant's wallet (a purchase in its ledger)."""
    try:
        micros = service.parse_amount(amount)
        service.check_amount(micros, "credit")
    except HeraldError as exc:
        raise typer.BadParameter(exc.detail, param_hint="AMOUNT") from exc

    async def work(db: Database) -> tuple[TransactionRead, WalletRead]:
        async with db.tenant_session(tenant_id) as session:
            await get_tenant(session, tenant_id)
            entry = await service.credit(
                session, tenant_id, micros, reason=reason, actor=service.OPERATOR_ACTOR
            )
            done = TransactionRead.model_validate(entry)
        return done, await _view(db, tenant_id)

    entry, view = _run(work)
    if as_json:
        emit_json(
            {"transaction": entry.model_dump(mode="json"), "wallet": view.model_dump(mode="json")}
        )
        return
    console.print(f"Credited {entry.amount_display} {view.currency}.")
    _print(view, as_json=False)


@app.command("show")
def show(tenant_id: TenantId, as_json: AsJson = False) -> None:
    """A tenant's balance, lifetime totals and billing mode."""

    async def work(db: Database) -> WalletRead:
        return await _view(db, tenant_id)

    _print(_run(work), as_json)


@app.command("mode")
def mode(
    tenant_id: TenantId,
    billing_mode: Annotated[BillingMode, typer.Argument(metavar="MODE", help="postpaid | prepaid")],
    as_json: AsJson = False,
) -> None:
    """Set a tenant's billing mode: prepaid sends need credits, postpaid ones are owed."""

    async def work(db: Database) -> WalletRead:
        async with db.tenant_session(tenant_id) as session:
            await get_tenant(session, tenant_id)
            await service.set_billing_mode(session, tenant_id, billing_mode)
        return await _view(db, tenant_id)

    _print(_run(work), as_json)
