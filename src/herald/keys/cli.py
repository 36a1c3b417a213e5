from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from herald.keys.service import (
    BATCH_SIZE,
    KeysFromEnvironment,
    RotationReport,
    add_primary_key,
    reencrypt_all,
    usage_by_kid,
)
from herald.kit.console import console, emit_json, errors
from herald.kit.crypto import Keyring, configure_keyring, load_keyring
from herald.kit.database import Database
from herald.runtime.database import run_with_database
from herald.settings import get_settings

app = typer.Typer(help="Encryption keys for secrets at rest.", no_args_is_help=True)


def _print_report(report: RotationReport) -> None:
    if report.added:
        console.print(f"New primary key [bold]{report.added}[/] added to the keyring.")
    for col in report.columns:
        console.print(
            f"{col.column}: {col.reencrypted} re-encrypted, {col.changed_meanwhile} changed "
            f"meanwhile, {col.failed} failed"
        )
        if col.failed_ids:
            errors.print(f"  cannot decrypt rows: {', '.join(col.failed_ids)}")
    console.print(f"Values are now under key [bold]{report.primary}[/].")
    if report.added:
        console.print(
            "Restart running API and worker processes so that new values use the new key, "
            "then run `herald keys rotate --resume` to catch values they wrote meanwhile."
        )


@app.command("rotate")
def rotate(
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Add no key: re-encrypt under the current primary (finish a rotation, or "
            "after a new key was put first in HERALD_ENCRYPTION_KEYS).",
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Rows per batch.")
    ] = BATCH_SIZE,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Add a new primary key, then re-encrypt every encrypted column under it."""
    settings = get_settings()
    added: str | None = None
    if resume:
        keyring = load_keyring(settings)
    else:
        try:
            keyring, added = add_primary_key(settings)
        except KeysFromEnvironment as exc:
            errors.print(str(exc))
            raise typer.Exit(2) from exc
    configure_keyring(keyring)

    async def work(db: Database) -> RotationReport:
        return await reencrypt_all(db, keyring, added=added, batch_size=batch_size)

    report = run_with_database(work, settings)
    if as_json:
        emit_json({**asdict(report), "failed": report.failed})
    else:
        _print_report(report)
    if report.failed:
        raise typer.Exit(1)


@app.command("list")
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The keyring's key ids (never the keys), the primary first, with the values each holds."""
    settings = get_settings()
    keyring: Keyring = load_keyring(settings)
    source = "HERALD_ENCRYPTION_KEYS" if settings.encryption_keys else "keyring file"
    usage = run_with_database(usage_by_kid, settings)
    keys = [
        {"kid": kid, "primary": kid == keyring.primary, "values": usage.get(kid, 0)}
        for kid in keyring.keys
    ]
    unknown = sorted(set(usage) - set(keyring.keys))
    if as_json:
        emit_json({"source": source, "keys": keys, "unknown_kids": unknown})
        return
    console.print(f"Keys from the {source}:")
    for key in keys:
        marker = " (primary)" if key["primary"] else ""
        console.print(f"  {key['kid']}{marker}: {key['values']} values")
    if unknown:
        errors.print(f"Values under keys missing from the keyring: {', '.join(unknown)}")
