"""``herald keys rotate`` end to end: the real command, against this run's database."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from herald.cli import app as cli
from herald.kit.crypto import (
    Keyring,
    current_keyring,
    keyring_path,
    load_keyring,
    read_keyring_file,
)
from herald.kit.database import Database
from herald.settings import Settings
from tests.conftest import TenantFixture
from tests.secret.test_routes import plaintext, put, raw_value

runner = CliRunner()


async def herald(*args: str) -> tuple[int, dict[str, Any]]:
    """Run a ``herald`` command in a thread (it runs its own event loop) and parse its JSON."""
    result = await asyncio.to_thread(runner.invoke, cli, [*args, "--json"])
    lines = [line for line in result.stdout.splitlines() if line.startswith('{"')]
    assert lines, result.output
    return result.exit_code, json.loads(lines[-1])


@pytest.mark.usefixtures("cli_env")
class TestRotate:
    async def test_reencrypts_under_a_new_key(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, settings: Settings
    ) -> None:
        for name in ("one", "two"):
            assert (await put(client, tenant, name, {"value": f"plain-{name}"})).status_code == 201
        old_kid = current_keyring().primary

        code, report = await herald("keys", "rotate")
        assert code == 0, report
        new_kid = report["added"]
        assert report["primary"] == new_kid != old_kid
        [column] = report["columns"]
        assert column["column"] == "tenant_secrets.value"
        assert column["reencrypted"] >= 2
        assert report["failed"] == 0

        ring = read_keyring_file(keyring_path(settings))
        assert list(ring.keys)[:2] == [new_kid, old_kid]
        for name in ("one", "two"):
            assert (await raw_value(db, tenant.id, name)).startswith(f"v1:{new_kid}:")
            assert await plaintext(db, tenant.id, name) == f"plain-{name}"

        code, listing = await herald("keys", "list")
        assert code == 0
        by_kid = {k["kid"]: k for k in listing["keys"]}
        assert by_kid[new_kid]["primary"] and by_kid[new_kid]["values"] >= 2
        assert by_kid[old_kid]["values"] == 0
        assert listing["unknown_kids"] == []

        code, again = await herald("keys", "rotate", "--resume")
        assert code == 0
        assert again["added"] is None
        assert again["columns"][0]["reencrypted"] == 0

    async def test_undecryptable_row_is_reported(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture
    ) -> None:
        await put(client, tenant, "orphan", {"value": "x"})
        foreign = Keyring.generate("lost").encrypt(b"x")
        async with db.system_session() as session:
            row_id = await session.scalar(
                text("UPDATE tenant_secrets SET value = :v WHERE tenant_id = :t RETURNING id"),
                {"v": foreign, "t": tenant.id},
            )
        try:
            code, report = await herald("keys", "rotate", "--resume")
            assert code == 1
            assert report["columns"][0]["failed_ids"] == [str(row_id)]
            assert await raw_value(db, tenant.id, "orphan") == foreign
            code, listing = await herald("keys", "list")
            assert listing["unknown_kids"] == ["lost"]
        finally:
            async with db.system_session() as session:
                await session.execute(
                    text("DELETE FROM tenant_secrets WHERE id = :id"), {"id": row_id}
                )


async def test_text_report(cli_env: None, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    await put(client, tenant, "texted", {"value": "x"})
    result = await asyncio.to_thread(runner.invoke, cli, ["keys", "rotate", "--resume"])
    assert result.exit_code == 0, result.output
    assert "tenant_secrets.value:" in result.output
    assert f"under key {current_keyring().primary}" in result.output


def test_environment_keys_are_not_rewritten(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("HERALD_ENCRYPTION_KEYS", f"env1:{key}")
    load_keyring(settings.model_copy(update={"encryption_keys": None}))
    before = keyring_path(settings).read_bytes()
    result = runner.invoke(cli, ["keys", "rotate"])
    assert result.exit_code == 2
    assert "HERALD_ENCRYPTION_KEYS" in result.output
    assert "--resume" in result.output
    assert keyring_path(settings).read_bytes() == before
