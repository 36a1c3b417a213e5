"""The import job: runs a batch whose file is stored in the database, on any worker."""

from __future__ import annotations

from uuid import UUID

import procrastinate

from herald.imports import service
from herald.kit.database import Database, database_url
from herald.settings import get_settings

blueprint = procrastinate.Blueprint()


@blueprint.task(name="run_import", queue=service.TASK_QUEUE, retry=3)
async def run_import(batch_id: str) -> dict[str, int] | None:
    """Import one batch; a retry after a crash continues from the batch's checkpoint."""
    settings = get_settings()
    with database_url(settings) as url:
        db = Database(url, pool_size=2)
        try:
            totals = await service.run_batch(db, UUID(batch_id))
        finally:
            await db.dispose()
    return totals.model_dump() if totals else None
