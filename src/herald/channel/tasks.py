"""Periodic sync of every active WhatsApp channel's templates from Meta."""

from __future__ import annotations

import logging

import procrastinate
from procrastinate.job_context import JobContext

from herald.channel.flows import sync_all
from herald.kit.jobs import resources_of

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="17 * * * *", periodic_id="sync_whatsapp_templates")
@blueprint.task(name="sync_whatsapp_templates", queue="channel", pass_context=True)
async def sync_whatsapp_templates(context: JobContext, timestamp: int) -> dict[str, int]:
    """Hourly: statuses Meta changed without a webhook reaching Herald are caught here."""
    counts = await sync_all(resources_of(context).db)
    log.info("whatsapp template sync", extra={"tick": timestamp, **counts})
    return counts
