"""The ``herald`` command. Each domain contributes a sub-command group from its ``cli.py``."""

from __future__ import annotations

import typer

from herald.auth import cli as auth_cli
from herald.kit.database import database_url
from herald.migrations import upgrade
from herald.settings import get_settings
from herald.tenant import cli as tenant_cli

app = typer.Typer(help="Herald: SMS and WhatsApp messaging.", no_args_is_help=True)
app.add_typer(tenant_cli.app, name="tenant")
app.add_typer(auth_cli.app, name="apikey")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    with database_url(get_settings()) as url:
        upgrade(url)
    typer.echo("database is up to date")


def main() -> None:
    app()
