"""``herald whatsapp``: check a template file against Meta's rules without a server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError

from herald.kit.console import console, emit_json, errors
from herald.whatsapp.schemas import TemplateCreate
from herald.whatsapp.templates import submission_payload, validate

app = typer.Typer(help="WhatsApp templates.", no_args_is_help=True)


def _read(path: Path) -> TemplateCreate:
    try:
        return TemplateCreate.model_validate(orjson.loads(path.read_bytes()))
    except (OSError, orjson.JSONDecodeError, ValidationError) as exc:
        errors.print(f"[red]Cannot read {path}:[/] {exc}")
        raise typer.Exit(2) from exc


@app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="JSON: name, language, category, components.")],
    payload: Annotated[
        bool, typer.Option("--payload", help="Print the body Meta's create call takes.")
    ] = False,
) -> None:
    """List every rule of Meta's the template breaks (exit 1), or confirm it is valid."""
    template = _read(path)
    problems = validate(template)
    for problem in problems:
        errors.print(f"[red]{problem.field}[/]: {problem.message}")
    if problems:
        raise typer.Exit(1)
    if payload:
        emit_json(submission_payload(template))
    else:
        console.print(f"[green]{template.name} ({template.language}) is valid.[/]")
