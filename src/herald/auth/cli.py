from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from herald.auth.service import IssuedKey, issue_api_key
from herald.kit.console import console, emit_json
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.errors import NotFound
from herald.runtime.database import run_with_database
from herald.tenant.service import get_tenant

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@app.command("create")
def create(
    tenant: Annotated[UUID, typer.Option(help="Tenant id.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    role: Annotated[Role, typer.Option(help="The key's role.")] = Role.admin,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create an API key for a tenant (printed once)."""

    async def work(db: Database) -> IssuedKey:
        async with db.tenant_session(tenant) as session:
            await get_tenant(session, tenant)
            return await issue_api_key(session, tenant, name, role)

    try:
        issued = run_with_database(work)
    except NotFound as exc:
        raise typer.BadParameter(exc.detail, param_hint="--tenant") from exc
    if as_json:
        emit_json(
            {
                "tenant_id": str(tenant),
                "api_key_id": str(issued.key.id),
                "api_key": issued.secret,
                "role": issued.key.role.value,
            }
        )
        return
    console.print(f"API key {issued.key.prefix} ({issued.key.role}) for tenant {tenant}:")
    console.print(f"[bold green]{issued.secret}[/] (shown once)")
