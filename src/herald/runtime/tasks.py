"""The scheduler's own heartbeat.

A periodic job every minute: each run logs how late it started after its scheduled tick.
A growing lag means the workers cannot keep up; a missing run means no worker (and so no
periodic scheduler) is alive. procrastinate records the last tick in
``procrastinate_periodic_defers``.
"""

from __future__ import annotations

import logging
import time

import procrastinate

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()

HEARTBEAT_CRON = "* * * * *"


@blueprint.periodic(cron=HEARTBEAT_CRON, periodic_id="heartbeat")
@blueprint.task(name="heartbeat", queue="runtime")
async def heartbeat(timestamp: int) -> float:
    """Log the lag between the scheduled tick and now; return it (seconds)."""
    lag = round(time.time() - timestamp, 3)
    log.info("scheduler heartbeat: tick %d ran %.3f s late", timestamp, lag)
    return lag
