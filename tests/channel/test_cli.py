"""``herald channels list|sync-templates`` against this run's database."""

from __future__ import annotations

import asyncio
import json
from uuid import uuid4

from typer.testing import CliRunner

from herald.channel.schemas import ChannelCreate
from herald.channel.service import create_channel, record_failure
from herald.cli import app
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate
from tests.channel.helpers import CLOSED_PORT, sms_body

runner = CliRunner()


async def _failing_channel(database_url: str) -> tuple[str, str]:
    """A tenant whose one channel has just opened its breaker (in a loop of its own: the
    command line runs its own too)."""
    db = Database(database_url, pool_size=1)
    try:
        async with db.system_session() as session:
            email = f"owner-{uuid4().hex[:12]}@example.com"
            done = await onboard_tenant(session, TenantCreate(name="CLI Shop"), email)
        tenant_id = done.tenant.id
        async with db.tenant_session(tenant_id) as session:
            body = ChannelCreate.model_validate(sms_body())
            channel = await create_channel(session, tenant_id, body, CLOSED_PORT)
        for _ in range(5):
            async with db.system_session() as session:
                await record_failure(session, channel.id, utcnow(), "HTTP 503 from the provider")
        return str(tenant_id), str(channel.id)
    finally:
        await db.dispose()


def test_list_shows_health_without_secrets(cli_env: None, database_url: str) -> None:
    tenant_id, channel_id = asyncio.run(_failing_channel(database_url))

    outcome = runner.invoke(
        app, ["channels", "list", "--tenant", tenant_id, "--status", "failing", "--json"]
    )

    assert outcome.exit_code == 0, outcome.output
    [row] = [json.loads(line) for line in outcome.stdout.strip().splitlines()]
    assert (row["id"], row["status"]) == (channel_id, "failing")
    assert row["status_reason"] == "HTTP 503 from the provider"
    assert "config" not in row
    text = runner.invoke(app, ["channels", "list", "--tenant", tenant_id])
    assert "failing  (HTTP 503 from the provider)" in text.stdout
