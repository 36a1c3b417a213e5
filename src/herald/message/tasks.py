"""The message domain's background jobs: settling in-doubt sends.

Dispatch itself is not a job: it is a loop in every worker process
(``herald.runtime.processes``), so claiming never waits behind the job queue.
"""

from __future__ import annotations

import procrastinate
import structlog
from procrastinate.job_context import JobContext

from herald.kit.jobs import resources_of
from herald.kit.models import utcnow
from herald.message.dispatch import DispatchPolicy, reconcile

log = structlog.get_logger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="* * * * *", periodic_id="reconcile")
@blueprint.task(name="reconcile", queue="messages", pass_context=True)
async def reconcile_in_doubt(context: JobContext, timestamp: int) -> int:
    """Every minute: settle messages stuck ``sending`` (see ``dispatch.reconcile``)."""
    async with resources_of(context).db.system_session() as session:
        settled = await reconcile(session, DispatchPolicy(), utcnow())
    if settled:
        log.warning("dispatch.reconciled_in_doubt", messages=settled, tick=timestamp)
    return settled
