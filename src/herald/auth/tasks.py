"""Periodic cleanup of sign-in material that can no longer be used."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import procrastinate

from herald.auth.repository import purge_expired
from herald.kit.database import Database, database_url
from herald.settings import get_settings

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="*/10 * * * *", periodic_id="cleanup")
@blueprint.task(name="cleanup", queue="auth")
async def cleanup(timestamp: int) -> dict[str, int]:
    """Delete expired and spent refresh tokens, magic links, invitations and old rate-limit
    counters; return how many of each."""
    with database_url(get_settings()) as url:
        db = Database(url, pool_size=1)
        try:
            async with db.system_session() as session:
                counts = await purge_expired(session, datetime.now(UTC))
        finally:
            await db.dispose()
    log.info("auth cleanup", extra={"tick": timestamp, **counts})
    return counts
