"""The import job: runs a batch whose file is stored in the database, on any worker."""

from __future__ import annotations

from uuid import UUID

import procrastinate
from procrastinate.job_context import JobContext

from herald.imports import service
from herald.kit.jobs import resources_of

blueprint = procrastinate.Blueprint()


@blueprint.task(name="run_import", queue=service.TASK_QUEUE, retry=3, pass_context=True)
async def run_import(context: JobContext, batch_id: str) -> dict[str, int] | None:
    """Import one batch; a retry after a crash continues from the batch's checkpoint."""
    totals = await service.run_batch(resources_of(context).db, UUID(batch_id))
    return totals.model_dump() if totals else None
