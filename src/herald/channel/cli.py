"""``herald channels``: the operator's view of every tenant's channels and their health, and a
template sync on demand (the worker runs it hourly)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from herald.channel.flows import sync_all
from herald.channel.models import Channel, ChannelStatus
from herald.channel.repository import operator_view
from herald.kit.console import console, emit_json
from herald.kit.database import Database
from herald.runtime.database import run_with_database

app = typer.Typer(help="Sender accounts on providers, across tenants.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON, one object per line.")]


def _describe(channel: Channel) -> dict[str, object]:
    """What an operator needs to spot a failing sender; never the config (it holds secrets)."""
    return {
        "id": str(channel.id),
        "tenant_id": str(channel.tenant_id),
        "name": channel.name,
        "kind": channel.kind.value,
        "provider": channel.provider,
        "sender": channel.sender,
        "status": channel.status.value,
        "status_reason": channel.status_reason,
        "consecutive_failures": channel.consecutive_failures,
        "last_failure_at": channel.last_failure_at.isoformat() if channel.last_failure_at else None,
    }


@app.command("list")
def list_channels(
    tenant: Annotated[UUID | None, typer.Option(help="Only this tenant's channels.")] = None,
    status: Annotated[
        ChannelStatus | None, typer.Option(help="Only channels in this state.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
    as_json: AsJson = False,
) -> None:
    """Channels by tenant and name, with their status and health."""

    async def work(db: Database) -> list[Channel]:
        async with db.system_session() as session:
            return list(await operator_view(session, tenant, status, limit))

    for channel in run_with_database(work):
        if as_json:
            emit_json(_describe(channel))
        else:
            reason = f"  ({channel.status_reason})" if channel.status_reason else ""
            console.print(
                f"{channel.id}  {channel.kind.value:<8} {channel.provider:<15} "
                f"{channel.name[:30]:<30} {channel.status.value}{reason}",
                soft_wrap=True,
            )


@app.command("sync-templates")
def sync_templates(as_json: AsJson = False) -> None:
    """Pull every active WhatsApp channel's templates from Meta now."""
    counts = run_with_database(sync_all)
    if as_json:
        emit_json(counts)
    else:
        console.print(
            f"{counts['channels']} channel(s) synced, {counts['templates']} template(s) listed, "
            f"{counts['failed']} failed (see the log)"
        )
