"""``herald inbox keyword|keywords``: the rule and a tenant's settings, from the command line."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import psycopg
from typer.testing import CliRunner

from herald.cli import app
from herald.kit.embedded import to_libpq_url
from tests.conftest import TenantFixture

runner = CliRunner()


def _json(args: list[str]) -> dict[str, Any]:
    outcome = runner.invoke(app, [*args, "--json"])
    assert outcome.exit_code == 0, outcome.output
    data: dict[str, Any] = json.loads(outcome.stdout.strip().splitlines()[-1])
    return data


def test_keyword_reads_a_text_like_the_inbound_pipeline() -> None:
    assert _json(["inbox", "keyword", "Stop please"])["kind"] == "stop"
    assert _json(["inbox", "keyword", "don't stop"])["kind"] is None


def test_keyword_with_a_tenant_uses_its_words(
    cli_env: None, database_url: str, tenant: TenantFixture
) -> None:
    config = {"add_to_do_not_contact": False, "languages": {"es": {"stop": ["baja"]}}}
    with psycopg.connect(to_libpq_url(database_url)) as conn:
        conn.execute(
            "INSERT INTO keyword_settings (tenant_id, config) VALUES (%s, %s)",
            (tenant.id, json.dumps(config)),
        )
    found = _json(["inbox", "keyword", "BAJA", "--tenant", str(tenant.id)])
    assert (found["kind"], found["language"]) == ("stop", "es")
    shown = _json(["inbox", "keywords", str(tenant.id)])
    assert shown["languages"]["es"]["stop"] == ["baja"]
    missing = runner.invoke(app, ["inbox", "keywords", str(uuid4())])
    assert missing.exit_code != 0
