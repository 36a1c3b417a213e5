"""``herald campaign list|show|send`` against this run's database."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID, uuid4

from sqlalchemy import update
from typer.testing import CliRunner

from herald.campaign.cli import _follow
from herald.campaign.schemas import CampaignCreate
from herald.campaign.service import create_campaign
from herald.channel.models import Channel
from herald.cli import app
from herald.contact.models import ConsentStatus, Contact
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.models import Message
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate

runner = CliRunner()


async def _draft(database_url: str) -> tuple[str, str]:
    """A tenant with two consenting contacts and a draft to all (in a loop of its own: the
    command line runs its own too)."""
    db = Database(database_url, pool_size=1)
    try:
        async with db.system_session() as session:
            email = f"owner-{uuid4().hex[:12]}@example.com"
            done = await onboard_tenant(session, TenantCreate(name="CLI Shop"), email)
        tenant_id = done.tenant.id
        async with db.tenant_session(tenant_id) as session:
            channel = Channel(
                tenant_id=tenant_id,
                kind="sms",
                provider="simulator",
                name="cli",
                sender="+12025550100",
                config={},
            )
            session.add(channel)
            for n in range(2):
                session.add(
                    Contact(
                        tenant_id=tenant_id,
                        phone_e164=f"+44791170000{n}",
                        sms_status=ConsentStatus.opted_in,
                        timezone="Europe/London",
                    )
                )
            await session.flush()
            data = CampaignCreate.model_validate(
                {
                    "name": "CLI sale",
                    "channel_id": str(channel.id),
                    "body": "Sale today. Reply STOP to opt out",
                    "audience": {"all": True},
                    "purpose": "transactional",
                }
            )
            campaign = await create_campaign(session, tenant_id, data, "cli-test")
        return str(tenant_id), str(campaign.id)
    finally:
        await db.dispose()


async def _all_sent_then_follow(database_url: str, tenant_id: str, campaign_id: str) -> None:
    """Play the dispatcher (every message sent), then follow the campaign to its end."""
    db = Database(database_url, pool_size=1)
    try:
        async with db.system_session() as session:
            await session.execute(
                update(Message)
                .where(Message.campaign_id == UUID(campaign_id))
                .values(status="sent", sent_at=utcnow())
            )
        await _follow(db, UUID(tenant_id), UUID(campaign_id))
    finally:
        await db.dispose()


def test_send_list_show_and_follow(cli_env: None, database_url: str) -> None:
    tenant_id, campaign_id = asyncio.run(_draft(database_url))

    listed = runner.invoke(app, ["campaign", "list", "--tenant", tenant_id, "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.stdout.strip().splitlines()]
    assert (row["id"], row["status"]) == (campaign_id, "draft")

    sent = runner.invoke(app, ["campaign", "send", campaign_id])
    assert sent.exit_code == 0, sent.output
    assert "2 message(s) queued" in sent.stdout
    again = runner.invoke(app, ["campaign", "send", campaign_id])
    assert again.exit_code == 1
    assert "running" in again.output

    asyncio.run(_all_sent_then_follow(database_url, tenant_id, campaign_id))
    shown = runner.invoke(app, ["campaign", "show", campaign_id, "--json"])
    assert shown.exit_code == 0, shown.output
    read = json.loads(shown.stdout)
    assert read["status"] == "completed"
    assert read["stats"]["sent"] == 2

    missing = runner.invoke(app, ["campaign", "show", str(uuid4())])
    assert missing.exit_code == 1
