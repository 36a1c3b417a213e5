from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated
from uuid import UUID

import orjson
import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from herald.imports import service
from herald.imports.models import ImportBatch
from herald.imports.reading import estimate_rows
from herald.imports.schemas import ImportCounts, ImportOptions, Totals
from herald.kit.console import console, emit_json, errors
from herald.kit.database import Database
from herald.kit.errors import HeraldError
from herald.runtime.database import run_with_database

app = typer.Typer(help="Manage contacts.", no_args_is_help=True)


def _options(
    mapping: str | None, default_country: str | None, tags: str | None, update_existing: bool
) -> ImportOptions:
    try:
        return ImportOptions(
            mapping=orjson.loads(mapping) if mapping else None,
            default_country=default_country,
            tags=[t.strip() for t in (tags or "").split(",") if t.strip()],
            update_existing=update_existing,
        )
    except (ValueError, orjson.JSONDecodeError) as exc:
        errors.print(f"[red]Invalid options:[/] {exc}")
        raise typer.Exit(2) from exc


@app.command("import")
def import_contacts(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The CSV file.")],
    tenant: Annotated[UUID, typer.Option("--tenant", help="The tenant to import into.")],
    mapping: Annotated[str | None, typer.Option(help='JSON {"csv header": "field"}.')] = None,
    default_country: Annotated[
        str | None, typer.Option(help="ISO country for national numbers (default: tenant's).")
    ] = None,
    tags: Annotated[str | None, typer.Option(help="Comma-separated tags for every row.")] = None,
    update_existing: Annotated[bool, typer.Option(help="Update contacts that exist.")] = True,
    force: Annotated[bool, typer.Option(help="Import a file already imported.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Import contacts from a CSV file (run again after a crash: it continues)."""
    options = _options(mapping, default_country, tags, update_existing)
    started = time.monotonic()
    try:
        batch = run_with_database(
            lambda db: _run(db, tenant, file, options, force, show_bar=not as_json)
        )
    except HeraldError as exc:
        errors.print(f"[red]Import refused:[/] {exc.detail}")
        raise typer.Exit(1) from exc
    seconds = round(time.monotonic() - started, 3)
    if as_json:
        emit_json(result(batch, seconds))
    else:
        _print(batch, seconds)
    if batch.error:
        raise typer.Exit(1)


async def _run(
    db: Database,
    tenant_id: UUID,
    path: Path,
    options: ImportOptions,
    force: bool,
    *,
    show_bar: bool,
) -> ImportBatch:
    with path.open("rb") as handle:
        if not (show_bar and _is_terminal()):
            return await service.import_local(
                db, tenant_id, handle, path.name, options, force=force
            )
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(path.name, total=estimate_rows(handle) or 1, counts="")

            async def progress(totals: Totals) -> None:
                counts = (
                    f"{totals.created} new, {totals.updated} updated, {totals.rejected} rejected"
                )
                bar.update(task, completed=totals.processed, counts=counts)

            return await service.import_local(
                db, tenant_id, handle, path.name, options, force=force, progress=progress
            )


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def result(batch: ImportBatch, seconds: float) -> dict[str, object]:
    return {
        "batch_id": str(batch.id),
        "status": batch.status.value,
        "total_rows": batch.total_rows,
        **ImportCounts.of(batch).model_dump(),
        "error": batch.error,
        "seconds": seconds,
    }


def _print(batch: ImportBatch, seconds: float) -> None:
    console.print(
        f"Import [bold]{batch.id}[/] {batch.status.value} in {seconds:.1f} s: "
        f"{batch.created_count} created, {batch.updated_count} updated, "
        f"{batch.skipped_count} skipped, {batch.rejected_count} rejected."
    )
    if batch.rejected_count or batch.skipped_count:
        console.print(f"Rejected rows: GET /v1/imports/{batch.id}/rejected.csv")
