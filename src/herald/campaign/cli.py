"""``herald campaign``: list and show campaigns, and send one while watching it go out."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from herald.campaign import service
from herald.campaign.models import CampaignStatus
from herald.campaign.repository import CampaignSweeps
from herald.campaign.schemas import CampaignRead, Stats
from herald.kit.console import console, emit_json, errors
from herald.kit.database import Database
from herald.kit.errors import HeraldError
from herald.kit.pagination import PageParams
from herald.runtime.database import run_with_database

app = typer.Typer(help="Campaigns: list, show, send.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON, one object per line.")]
FINISHED = frozenset({CampaignStatus.completed, CampaignStatus.cancelled, CampaignStatus.failed})
POLL_SECONDS = 0.5


async def _tenant_of(db: Database, campaign_id: UUID) -> UUID:
    async with db.system_session() as session:
        tenant_id = await CampaignSweeps(session).tenant_of(campaign_id)
    if tenant_id is None:
        errors.print(f"No campaign {campaign_id}.")
        raise typer.Exit(1)
    return tenant_id


async def _read(db: Database, tenant_id: UUID, campaign_id: UUID) -> CampaignRead:
    async with db.tenant_session(tenant_id) as session:
        return await service.read_campaign(session, tenant_id, campaign_id)


def _line(read: CampaignRead) -> str:
    return f"{read.id}  {read.status.value:<10} {read.kind.value:<8} {read.name[:40]}"


@app.command("list")
def list_campaigns(
    tenant: Annotated[UUID, typer.Option(help="The tenant whose campaigns to list.")],
    status: Annotated[CampaignStatus | None, typer.Option(help="Only in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: AsJson = False,
) -> None:
    """The tenant's campaigns, newest first."""

    async def work(db: Database) -> list[CampaignRead]:
        async with db.tenant_session(tenant) as session:
            found = await service.list_campaigns(session, tenant, status, PageParams(limit=limit))
            return [CampaignRead.model_validate(c) for c in found.items]

    for read in run_with_database(work):
        if as_json:
            emit_json(read.model_dump(mode="json"))
        else:
            console.print(_line(read), soft_wrap=True)


@app.command("show")
def show(campaign_id: UUID, as_json: AsJson = False) -> None:
    """One campaign with its stats."""

    async def work(db: Database) -> CampaignRead:
        return await _read(db, await _tenant_of(db, campaign_id), campaign_id)

    read = run_with_database(work)
    if as_json:
        emit_json(read.model_dump(mode="json"))
        return
    console.print(_line(read), soft_wrap=True)
    if read.stats is not None:
        console.print(_stats_line(read.stats))


def _stats_line(stats: Stats) -> str:
    names = ("queued", "sending", "sent", "delivered", "read", "failed", "clicked", "replied")
    return "  ".join(f"{name} {getattr(stats, name)}" for name in names)


@app.command("send")
def send(
    campaign_id: UUID,
    follow: Annotated[
        bool, typer.Option("--follow", help="Watch it go out: progress, rate, expected end.")
    ] = False,
) -> None:
    """Launch a draft or scheduled campaign now (the workers send it)."""

    async def work(db: Database) -> None:
        tenant_id = await _tenant_of(db, campaign_id)
        try:
            async with db.tenant_session(tenant_id) as session:
                _, added = await service.send_campaign(session, tenant_id, campaign_id)
        except HeraldError as exc:
            errors.print(f"Not sent: {exc.detail}")
            raise typer.Exit(1) from None
        console.print(f"Launched: {added} message(s) queued.")
        if follow:
            await _follow(db, tenant_id, campaign_id)

    run_with_database(work)


async def _follow(db: Database, tenant_id: UUID, campaign_id: UUID) -> None:
    """A live bar of messages done (sent, delivered, read or failed) out of all, with the rate
    and the time remaining at that rate, until the campaign finishes."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]:.1f} msg/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("sending", total=None, rate=0.0)
        while True:
            read = await _read(db, tenant_id, campaign_id)
            stats = read.stats or Stats()
            done = stats.total - stats.queued - stats.sending
            progress.update(
                task,
                total=stats.total,
                completed=done,
                description=read.status.value,
                rate=progress.tasks[0].speed or 0.0,
            )
            if read.status in FINISHED:
                break
            await asyncio.sleep(POLL_SECONDS)
    console.print(_stats_line(stats))
