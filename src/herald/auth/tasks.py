"""Periodic cleanup of sign-in material that can no longer be used."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import procrastinate
from procrastinate.job_context import JobContext

from herald.auth.repository import purge_expired
from herald.kit.jobs import resources_of

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="*/10 * * * *", periodic_id="cleanup")
@blueprint.task(name="cleanup", queue="auth", pass_context=True)
async def cleanup(context: JobContext, timestamp: int) -> dict[str, int]:
    """Delete expired and spent refresh tokens, magic links, invitations and old rate-limit
    counters; return how many of each."""
    async with resources_of(context).db.system_session() as session:
        counts = await purge_expired(session, datetime.now(UTC))
    log.info("auth cleanup", extra={"tick": timestamp, **counts})
    return counts
