"""``herald costs list|set``: the operator changes the platform's list from a date on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from typer.testing import CliRunner

from herald.cli import app
from herald.kit.embedded import to_libpq_url
from tests.cost.helpers import provider

runner = CliRunner()


def _set(*args: str) -> dict[str, Any]:
    outcome = runner.invoke(app, ["costs", "set", *args, "--json"])
    assert outcome.exit_code == 0, outcome.output
    data: dict[str, Any] = json.loads(outcome.stdout.strip().splitlines()[-1])
    return data


def test_set_keeps_history_and_lists_what_is_in_effect(cli_env: None, database_url: str) -> None:
    name = provider()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0, tzinfo=None)
    old = _set(name, "sms", "fr", "0.07", "--from", "2026-01-01T00:00:00")
    new = _set(name, "sms", "FR", "0.0650", "--from", tomorrow.isoformat())
    assert (old["country"], new["unit_price"], new["valid_to"]) == ("FR", "0.065000", None)

    with psycopg.connect(to_libpq_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT id::text, unit_price_micros, valid_to FROM prices WHERE provider = %s "
            "ORDER BY valid_from",
            (name,),
        ).fetchall()
    assert rows == [
        (old["id"], 70_000, tomorrow.replace(tzinfo=UTC)),
        (new["id"], 65_000, None),
    ]

    listed = runner.invoke(app, ["costs", "list", "--provider", name, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [json.loads(line)["id"] for line in listed.stdout.strip().splitlines()] == [old["id"]]

    earlier = (tomorrow - timedelta(hours=1)).isoformat()
    refused = runner.invoke(app, ["costs", "set", name, "sms", "FR", "0.06", "--from", earlier])
    assert refused.exit_code == 2
    assert "date order" in refused.output


def test_bad_arguments(cli_env: None) -> None:
    for args in (
        ["sms", "FRA", "0.01"],
        ["sms", "FR", "-1"],
        ["sms", "FR", "0.0000001"],
        ["sms", "FR", "cheap"],
        ["whatsapp", "FR", "0.01"],
    ):
        outcome = runner.invoke(app, ["costs", "set", provider(), *args])
        assert outcome.exit_code == 2, args
