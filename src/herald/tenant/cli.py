from __future__ import annotations

from typing import Annotated

import typer

from herald.kit.console import console, emit_json
from herald.kit.database import Database
from herald.kit.runtime import run_with_database
from herald.tenant.flows import Onboarded, onboard_tenant
from herald.tenant.schemas import TenantCreate

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
