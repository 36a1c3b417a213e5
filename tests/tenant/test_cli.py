"""``herald tenant suspend|resume``: the operator's switch, checked in the database."""

from __future__ import annotations

import json
from uuid import uuid4

import psycopg
from typer.testing import CliRunner

from herald.cli import app
from herald.kit.embedded import to_libpq_url
from tests.conftest import TenantFixture

runner = CliRunner()


def _status(database_url: str, tenant: TenantFixture) -> str:
    with psycopg.connect(to_libpq_url(database_url)) as conn:
        row = conn.execute("SELECT status FROM tenants WHERE id = %s", (tenant.id,)).fetchone()
    assert row is not None
    return str(row[0])


def test_suspend_then_resume(cli_env: None, database_url: str, tenant: TenantFixture) -> None:
    suspended = runner.invoke(
        app, ["tenant", "suspend", str(tenant.id), "--reason", "unpaid invoice", "--json"]
    )
    assert suspended.exit_code == 0, suspended.output
    assert json.loads(suspended.stdout.strip().splitlines()[-1]) == {
        "tenant_id": str(tenant.id),
        "status": "suspended",
    }
    assert _status(database_url, tenant) == "suspended"

    resumed = runner.invoke(app, ["tenant", "resume", str(tenant.id)])

    assert resumed.exit_code == 0, resumed.output
    assert _status(database_url, tenant) == "active"
    with psycopg.connect(to_libpq_url(database_url)) as conn:
        log = conn.execute(
            "SELECT action, changes FROM audit_log WHERE tenant_id = %s AND resource_type = "
            "'tenants' ORDER BY id",
            (tenant.id,),
        ).fetchall()
    assert [action for action, _ in log] == ["tenant.suspended", "tenant.resumed"]
    assert log[0][1] == {
        "status": {"old": "active", "new": "suspended"},
        "reason": "unpaid invoice",
    }


def test_unknown_tenant_is_refused(cli_env: None) -> None:
    outcome = runner.invoke(app, ["tenant", "suspend", str(uuid4())])

    assert outcome.exit_code == 2
    assert "No tenant" in outcome.output
