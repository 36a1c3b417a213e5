from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import update
from typer.testing import CliRunner

from herald.cli import app
from herald.kit.database import Database
from herald.kit.passwords import verify_password
from herald.user.models import User
from tests.conftest import TenantFixture

runner = CliRunner()
PASSWORD = "cli password long"


def _json(args: list[str], stdin: str | None = None) -> dict[str, object]:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 0, result.output
    # The JSON object is the command's last line (log lines may precede it on stdout).
    payload: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return payload


class TestUserCli:
    def test_create_list_and_sign_in(self, cli_env: None, tenant: TenantFixture) -> None:
        email = f"cli-{uuid4().hex[:8]}@example.com"
        created = _json(
            [
                "user",
                "create",
                email,
                "--tenant",
                str(tenant.id),
                "--role",
                "manager",
                "--password-stdin",
                "--json",
            ],
            stdin=PASSWORD + "\n",
        )
        assert created["email"] == email and created["role"] == "manager"
        listed = _json(["user", "list", "--tenant", str(tenant.id), "--json"])
        items = listed["items"]
        assert isinstance(items, list)
        assert {i["email"] for i in items} == {email, tenant.owner_email}

    def test_unknown_tenant(self, cli_env: None) -> None:
        result = runner.invoke(app, ["user", "create", "a@example.com", "--tenant", str(uuid4())])
        assert result.exit_code == 1
        assert "No tenant" in result.output

    def test_short_password(self, cli_env: None, tenant: TenantFixture) -> None:
        result = runner.invoke(
            app,
            ["user", "create", "b@example.com", "--tenant", str(tenant.id), "--password-stdin"],
            input="short\n",
        )
        assert result.exit_code == 1
        assert "at least 10 characters" in result.output

    async def test_set_password_and_unlock(
        self, cli_env: None, tenant: TenantFixture, db: Database
    ) -> None:
        async with db.system_session() as session:
            await session.execute(
                update(User)
                .where(User.id == tenant.owner_id)
                .values(locked_until=datetime.now(UTC) + timedelta(hours=1))
            )
        # The command runs its own event loop, so it is called from a thread here.
        result = await asyncio.to_thread(
            runner.invoke, app, ["user", "set-password", tenant.owner_email], input=PASSWORD
        )
        assert result.exit_code == 0, result.output
        result = await asyncio.to_thread(runner.invoke, app, ["user", "unlock", tenant.owner_email])
        assert result.exit_code == 0 and "unlocked" in result.output
        async with db.system_session() as session:
            user = await session.get(User, tenant.owner_id)
        assert user is not None and user.locked_until is None
        assert verify_password(user.password_hash, PASSWORD)
        result = await asyncio.to_thread(runner.invoke, app, ["user", "unlock", "no@example.com"])
        assert result.exit_code == 1 and "No user" in result.output
