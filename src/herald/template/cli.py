"""``herald templates``: check and try out a template body offline, without an account."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from herald.contact.eligibility import Purpose
from herald.kit.console import console, emit_json, errors
from herald.kit.errors import HeraldError
from herald.template.footer import apply_footer, footer_for
from herald.template.render import (
    SAMPLE_CONTACT,
    RenderContext,
    render_template,
    require_known_variables,
    validate_template,
)
from herald.tenant.schemas import TenantSettings

app = typer.Typer(help="Check and render SMS templates.", no_args_is_help=True)

Source = Annotated[
    Path, typer.Argument(dir_okay=False, allow_dash=True, help="The body's file, or - for stdin.")
]


def _read(source: Path) -> str:
    return sys.stdin.read() if str(source) == "-" else source.read_text(encoding="utf-8")


def _fail(exc: HeraldError) -> typer.Exit:
    errors.print(f"[red]{exc.detail}[/]")
    return typer.Exit(1)


@app.command()
def check(
    source: Source,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Say whether a body would be saved, and which variables it reads (exit 1 if not)."""
    try:
        found = validate_template(_read(source))
        require_known_variables(found)
    except HeraldError as exc:
        raise _fail(exc) from exc
    variables = sorted(found.variables)
    report = {
        "variables": variables,
        "custom_fields": list(found.custom_fields),
        "uses_link": found.uses_link,
        "uses_opt_out": found.uses_opt_out,
    }
    if as_json:
        emit_json(report)
    else:
        console.print(f"ok: reads {', '.join(variables) or 'no variables'}")


@app.command()
def render(
    source: Source,
    value: Annotated[
        list[str] | None,
        typer.Option("--set", help="field=value (custom.<name>=value for custom fields)."),
    ] = None,
    purpose: Annotated[Purpose, typer.Option(help="marketing gets the opt-out footer.")] = (
        Purpose.marketing
    ),
    language: Annotated[str, typer.Option(help="Picks the footer.")] = "en",
) -> None:
    """Render a body for the built-in sample person, with values of your own."""
    fields, custom = dict(SAMPLE_CONTACT), {}
    for pair in value or []:
        name, sep, text = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"{pair!r} is not field=value")
        if name.startswith("custom."):
            custom[name.removeprefix("custom.")] = text
        else:
            fields[name] = text
    settings = TenantSettings()
    context = RenderContext(
        contact=fields,
        custom=custom,
        business_name="Your Shop",
        link="https://example.com/l/PREVIEW",
        discount_code="SAVE10",
        opt_out=footer_for(settings, language),
    )
    try:
        text = render_template(_read(source), context)
    except HeraldError as exc:
        raise _fail(exc) from exc
    typer.echo(apply_footer(text, purpose, settings, language)[0])
