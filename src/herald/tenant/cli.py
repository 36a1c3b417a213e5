from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from herald.kit.console import console, emit_json
from herald.kit.database import Database
from herald.kit.errors import NotFound
from herald.runtime.database import run_with_database
from herald.tenant.flows import Onboarded, onboard_tenant
from herald.tenant.models import TenantStatus
from herald.tenant.schemas import TenantCreate
from herald.tenant.service import set_paused, set_status

app = typer.Typer(help="Manage tenants.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The tenant's display name.")],
    owner_email: Annotated[str, typer.Option(help="Email of the owner (created if new).")],
    country: Annotated[str, typer.Option(help="ISO country code for national numbers.")] = "US",
    currency: Annotated[str, typer.Option()] = "USD",
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a tenant with its owner and a first API key (printed once)."""
    data = TenantCreate(name=name, country=country, currency=currency, timezone=timezone)

    async def work(db: Database) -> Onboarded:
        async with db.system_session() as session:
            return await onboard_tenant(session, data, owner_email)

    done = run_with_database(work)
    if as_json:
        emit_json(
            {
                "tenant_id": str(done.tenant.id),
                "name": done.tenant.name,
                "owner_id": str(done.owner.id),
                "owner_email": done.owner.email,
                "api_key": done.api_key.secret,
                "api_key_id": str(done.api_key.key.id),
            }
        )
        return
    console.print(f"Tenant [bold]{done.tenant.name}[/] created: {done.tenant.id}")
    console.print(f"Owner: {done.owner.email}")
    console.print(f"API key (shown once): [bold green]{done.api_key.secret}[/]")


def _set_status(tenant_id: UUID, status: TenantStatus, reason: str | None, as_json: bool) -> None:
    async def work(db: Database) -> None:
        async with db.system_session() as session:
            await set_status(session, tenant_id, status, reason)

    try:
        run_with_database(work)
    except NotFound as exc:
        raise typer.BadParameter(exc.detail, param_hint="TENANT_ID") from exc
    if as_json:
        emit_json({"tenant_id": str(tenant_id), "status": status.value})
    else:
        console.print(f"Tenant {tenant_id} is now [bold]{status.value}[/].")


TenantId = Annotated[UUID, typer.Argument(help="The tenant's id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
Reason = Annotated[str | None, typer.Option(help="Why, for the tenant's audit log.")]


@app.command("suspend")
def suspend(tenant_id: TenantId, reason: Reason = None, as_json: AsJson = False) -> None:
    """Refuse every request of the tenant's keys and users; its queued imports do not run (its
    data is kept)."""
    _set_status(tenant_id, TenantStatus.suspended, reason, as_json)


@app.command("resume")
def resume(tenant_id: TenantId, reason: Reason = None, as_json: AsJson = False) -> None:
    """Let a suspended tenant's keys and users in again."""
    _set_status(tenant_id, TenantStatus.active, reason, as_json)


def _set_paused(tenant_id: UUID, paused: bool, reason: str | None, as_json: bool) -> None:
    async def work(db: Database) -> None:
        async with db.system_session() as session:
            await set_paused(session, tenant_id, paused, reason)

    try:
        run_with_database(work)
    except NotFound as exc:
        raise typer.BadParameter(exc.detail, param_hint="TENANT_ID") from exc
    if as_json:
        emit_json({"tenant_id": str(tenant_id), "paused": paused})
    else:
        state = "paused: nothing is sent" if paused else "unpaused: sending resumes"
        console.print(f"Tenant {tenant_id} is now [bold]{state}[/].")


@app.command("pause")
def pause(tenant_id: TenantId, reason: Reason = None, as_json: AsJson = False) -> None:
    """The kill switch: stop every send of the tenant from the dispatcher's next batch (its
    queued messages wait, nothing is lost)."""
    _set_paused(tenant_id, True, reason, as_json)


@app.command("unpause")
def unpause(tenant_id: TenantId, reason: Reason = None, as_json: AsJson = False) -> None:
    """Lift the kill switch: the tenant's queued messages go out again."""
    _set_paused(tenant_id, False, reason, as_json)
