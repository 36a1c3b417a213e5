"""``herald wallet credit|show|mode``: the operator's commands, checked in the database."""

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


def test_credit_then_show(cli_env: None, database_url: str, tenant: TenantFixture) -> None:
    done = _json(["wallet", "credit", str(tenant.id), "25.00", "--reason", "invoice 42"])
    shown = _json(["wallet", "show", str(tenant.id)])

    assert done["transaction"]["amount"] == 25_000_000
    assert (done["transaction"]["kind"], done["transaction"]["actor"]) == ("purchase", "operator")
    assert done["transaction"]["reason"] == "invoice 42"
    assert (shown["balance"], shown["balance_display"]) == (25_000_000, "25.00")
    with psycopg.connect(to_libpq_url(database_url)) as conn:
        row = conn.execute(
            "SELECT w.balance, w.lifetime_purchased, sum(t.amount) FROM wallets w "
            "JOIN wallet_transactions t USING (tenant_id) WHERE w.tenant_id = %s "
            "GROUP BY w.balance, w.lifetime_purchased",
            (tenant.id,),
        ).fetchone()
    assert row == (25_000_000, 25_000_000, 25_000_000)


def test_mode_switches_billing(cli_env: None, tenant: TenantFixture) -> None:
    switched = _json(["wallet", "mode", str(tenant.id), "prepaid"])
    plain = runner.invoke(app, ["wallet", "show", str(tenant.id)])

    assert switched["billing_mode"] == "prepaid"
    assert "prepaid" in plain.output


def test_bad_input_is_refused(cli_env: None, tenant: TenantFixture) -> None:
    inexact = runner.invoke(app, ["wallet", "credit", str(tenant.id), "1.0000001", "--reason", "x"])
    unknown = runner.invoke(app, ["wallet", "show", str(uuid4())])
    zero = runner.invoke(app, ["wallet", "credit", str(tenant.id), "0", "--reason", "x"])
    mode = runner.invoke(app, ["wallet", "mode", str(tenant.id), "free"])
    no_reason = runner.invoke(app, ["wallet", "credit", str(tenant.id), "5"])

    assert inexact.exit_code == 2 and "at most 6 decimals" in inexact.output
    assert unknown.exit_code == 2 and "No tenant" in unknown.output
    assert zero.exit_code == 2 and "positive" in zero.output
    assert mode.exit_code == 2
    assert no_reason.exit_code == 2
