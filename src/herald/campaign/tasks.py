"""The campaign domain's background jobs: completing finished campaigns and launching the
scheduled ones whose time has come."""

from __future__ import annotations

import procrastinate
import structlog
from procrastinate.job_context import JobContext

from herald.campaign import service
from herald.kit.jobs import resources_of
from herald.kit.models import utcnow

log = structlog.get_logger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="* * * * *", periodic_id="campaign-tick")
@blueprint.task(name="tick", queue="campaigns", pass_context=True)
async def tick(context: JobContext, timestamp: int) -> dict[str, int]:
    """Every minute: running campaigns with nothing left to send complete, and due scheduled
    ones launch (each in its own transaction, so one refusal stops no other)."""
    db = resources_of(context).db
    done = await service.sweep(db, utcnow())
    if done.completed or done.launched or done.refused:
        log.info("campaign.tick", tick=timestamp, **done._asdict())
    return done._asdict()
