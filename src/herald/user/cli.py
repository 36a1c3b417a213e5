from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from uuid import UUID

import typer

from herald.kit.console import console, emit_json, errors
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.errors import HeraldError
from herald.kit.pagination import MAX_LIMIT, PageParams
from herald.runtime.database import run_with_database
from herald.tenant.service import get_tenant
from herald.user import service
from herald.user.models import Membership, User
from herald.user.repository import UserRepository

app = typer.Typer(help="Manage users and their memberships.", no_args_is_help=True)

T = TypeVar("T")
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work``; a refusal (unknown tenant, short password…) exits 1 with its detail."""
    try:
        return run_with_database(work)
    except HeraldError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc


def _read_password(from_stdin: bool) -> str:
    """The first line of standard input, or a hidden prompt asked twice."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _member_json(user: User, membership: Membership) -> dict[str, str | None]:
    return {
        "user_id": str(user.id),
        "email": user.email,
        "name": user.name,
        "tenant_id": str(membership.tenant_id),
        "role": membership.role.value,
    }


@app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="The user's email (created if new).")],
    tenant: Annotated[UUID, typer.Option(help="Tenant to add the user to.")],
    role: Annotated[Role, typer.Option(help="Their role in that tenant.")] = Role.agent,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password from standard input.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Create a user (or take an existing one) and make them a member of a tenant."""
    password = _read_password(True) if password_stdin else None

    async def work(db: Database) -> tuple[User, Membership]:
        async with db.system_session() as session:
            await get_tenant(session, tenant)
            user = await service.get_or_create_user(session, email)
            if password is not None:
                await service.set_password(session, email, password)
            return user, await service.add_member(session, tenant, user.id, role)

    user, membership = _run(work)
    if as_json:
        emit_json(_member_json(user, membership))
        return
    console.print(f"{user.email} ({user.id}) is {membership.role.value} of tenant {tenant}.")


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="The user's email.")],
) -> None:
    """Set a user's password (read from standard input, or prompted for)."""
    password = _read_password(False)

    async def work(db: Database) -> User:
        async with db.system_session() as session:
            return await service.set_password(session, email, password)

    user = _run(work)
    console.print(f"Password set for {user.email}.")


@app.command("list")
def list_users(
    tenant: Annotated[UUID, typer.Option(help="Tenant id.")],
    as_json: AsJson = False,
) -> None:
    """List a tenant's members (the first 500)."""

    async def work(db: Database) -> list[tuple[Membership, User]]:
        async with db.tenant_session(tenant) as session:
            await get_tenant(session, tenant)
            rows = await UserRepository(session).members(tenant, PageParams(limit=MAX_LIMIT))
            return rows[:MAX_LIMIT]

    rows = _run(work)
    if as_json:
        emit_json({"items": [_member_json(u, m) for m, u in rows]})
        return
    for membership, user in rows:
        console.print(f"{user.id}  {membership.role.value:<8} {user.email}")


@app.command("unlock")
def unlock(email: Annotated[str, typer.Argument(help="The user's email.")]) -> None:
    """Lift a lockout after failed sign-ins."""

    async def work(db: Database) -> User:
        async with db.system_session() as session:
            return await service.unlock(session, email)

    user = _run(work)
    console.print(f"{user.email} is unlocked.")
