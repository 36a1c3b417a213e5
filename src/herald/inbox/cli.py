"""``herald inbox``: what a text means to the keyword rule, and a tenant's keyword settings
(for support: "why did this reply opt them out?")."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer

from herald.inbox import service
from herald.inbox.keywords import match
from herald.inbox.schemas import KeywordConfig, KeywordSettingsRead
from herald.kit.console import console, emit_json
from herald.kit.database import Database
from herald.kit.errors import HeraldError
from herald.runtime.database import run_with_database
from herald.tenant.service import get_tenant

app = typer.Typer(help="The two-way inbox and its keywords.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _run(work: Any) -> Any:
    try:
        return run_with_database(work)
    except HeraldError as exc:
        raise typer.BadParameter(exc.detail, param_hint="--tenant") from exc


def _config_of(tenant_id: UUID | None) -> KeywordConfig:
    if tenant_id is None:
        return KeywordConfig()

    async def work(db: Database) -> KeywordConfig:
        async with db.tenant_session(tenant_id) as session:
            await get_tenant(session, tenant_id)
            return await service.keyword_config(session, tenant_id)

    config: KeywordConfig = _run(work)
    return config


@app.command("keyword")
def keyword(
    text: Annotated[str, typer.Argument(help="An inbound text, as the person sent it.")],
    tenant: Annotated[
        UUID | None, typer.Option("--tenant", help="Also try this tenant's own words.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Which keyword, if any, a text is (STOP, START, HELP or a tenant's word)."""
    found = match(text, _config_of(tenant).words())
    result = {
        "text": text,
        "keyword": found.keyword if found else None,
        "kind": found.kind.value if found else None,
        "language": found.language if found else None,
    }
    if as_json:
        emit_json(result)
    elif found is None:
        console.print("Not a keyword: an ordinary reply.")
    else:
        where = f" (the tenant's {found.language} word)" if found.language else ""
        console.print(f"[bold]{found.kind.value.upper()}[/]: matches {found.keyword!r}{where}.")


@app.command("keywords")
def keywords(
    tenant_id: Annotated[UUID, typer.Argument(help="The tenant's id.")], as_json: AsJson = False
) -> None:
    """A tenant's keyword settings and the built-in words."""

    async def work(db: Database) -> KeywordSettingsRead:
        async with db.tenant_session(tenant_id) as session:
            await get_tenant(session, tenant_id)
            return await service.keyword_settings(session, tenant_id)

    shown: KeywordSettingsRead = _run(work)
    if as_json:
        emit_json(shown.model_dump(mode="json"))
        return
    console.print(f"Add to do-not-contact on STOP: {shown.add_to_do_not_contact}")
    for kind, words in shown.built_in.items():
        console.print(f"built-in {kind.value}: {', '.join(words)}")
    for language, extra in shown.languages.items():
        for kind, words in extra.words().items():
            if words:
                console.print(f"{language} {kind.value}: {', '.join(words)}")
