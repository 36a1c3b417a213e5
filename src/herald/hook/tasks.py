"""Retention of stored provider callbacks (processing is a loop, not a job: see ``flows``)."""

from __future__ import annotations

import procrastinate
import structlog
from procrastinate.job_context import JobContext

from herald.hook import service
from herald.kit.jobs import resources_of
from herald.kit.models import utcnow
from herald.settings import get_settings

log = structlog.get_logger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="41 3 * * *", periodic_id="purge_webhook_events")
@blueprint.task(name="purge", queue="hooks", pass_context=True)
async def purge_old_events(context: JobContext, timestamp: int) -> int:
    """Daily: delete raw callbacks older than ``HERALD_WEBHOOK_RETENTION_DAYS`` (90)."""
    days = get_settings().webhook_retention_days
    async with resources_of(context).db.system_session() as session:
        deleted = await service.purge(session, days, utcnow())
    log.info("hooks.purged", deleted=deleted, days=days, tick=timestamp)
    return deleted
