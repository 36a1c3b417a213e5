"""The ``herald`` command. Each domain contributes a sub-command group from its ``cli.py``."""

from __future__ import annotations

import typer

from herald.auth import cli as auth_cli
from herald.bench import cli as bench_cli
from herald.campaign import cli as campaign_cli
from herald.channel import cli as channel_cli
from herald.cost import cli as cost_cli
from herald.hook import cli as hook_cli
from herald.imports import cli as imports_cli
from herald.inbox import cli as inbox_cli
from herald.keys import cli as keys_cli
from herald.kit.database import database_url
from herald.migrations import upgrade
from herald.runtime import cli as runtime_cli
from herald.settings import get_settings
from herald.sms import cli as sms_cli
from herald.template import cli as template_cli
from herald.tenant import cli as tenant_cli
from herald.user import cli as user_cli
from herald.wallet import cli as wallet_cli
from herald.whatsapp import cli as whatsapp_cli

app = typer.Typer(help="Herald: SMS and WhatsApp messaging.", no_args_is_help=True)
app.add_typer(tenant_cli.app, name="tenant")
app.add_typer(auth_cli.app, name="apikey")
app.add_typer(user_cli.app, name="user")
app.add_typer(keys_cli.app, name="keys")
app.add_typer(imports_cli.app, name="contacts")
app.add_typer(template_cli.app, name="templates")
app.add_typer(whatsapp_cli.app, name="whatsapp")
app.add_typer(cost_cli.app, name="costs")
app.add_typer(sms_cli.app, name="sms")
app.add_typer(wallet_cli.app, name="wallet")
app.add_typer(channel_cli.app, name="channels")
app.add_typer(hook_cli.app, name="hooks")
app.add_typer(inbox_cli.app, name="inbox")
app.add_typer(campaign_cli.app, name="campaign")
app.command("up")(runtime_cli.up)
app.command("api")(runtime_cli.api)
app.command("worker")(runtime_cli.worker)
app.command("sim")(runtime_cli.sim)
app.command("bench")(bench_cli.bench)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    with database_url(get_settings()) as url:
        upgrade(url)
    typer.echo("database is up to date")


def main() -> None:
    app()
