"""``herald hooks``: apply stored provider callbacks again, and delete old ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from herald.hook import service
from herald.kit.console import console, emit_json
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.runtime.database import run_with_database
from herald.settings import get_settings

app = typer.Typer(help="Provider callbacks (webhooks) stored by Herald.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time; use e.g. 2026-12-01 or 2026-12-01T08:00:00Z"
        ) from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@app.command("reprocess")
def reprocess(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only events that ended with an error.")
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="Only events received at or after this ISO time.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Queue processed events to be applied again by the worker (idempotent: receipts only
    move messages forward)."""
    start = _since(since)

    async def work(db: Database) -> int:
        async with db.system_session() as session:
            return await service.reprocess(session, failed_only=failed, since=start, now=utcnow())

    count = run_with_database(work)
    if as_json:
        emit_json({"requeued": count})
    else:
        console.print(f"{count} event(s) queued for processing again")


@app.command("purge")
def purge(
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Older than this; default HERALD_WEBHOOK_RETENTION_DAYS."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Delete stored events now (the worker does it daily)."""
    keep = days or get_settings().webhook_retention_days

    async def work(db: Database) -> int:
        async with db.system_session() as session:
            return await service.purge(session, keep, utcnow())

    count = run_with_database(work)
    if as_json:
        emit_json({"deleted": count})
    else:
        console.print(f"{count} event(s) older than {keep} days deleted")
