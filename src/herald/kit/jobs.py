"""Background jobs: what a worker process shares between its jobs, and deferring a job in the
caller's own transaction.

A worker opens its resources once (one engine and pool; the send path adds one HTTP session)
and procrastinate hands them to every job through the job context, so no job pays for a pool of
its own. Deferring goes through procrastinate's public API on the session's own connection: a
rollback removes the job with the rest of the work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import procrastinate
from procrastinate.job_context import JobContext
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.database import Database

CONTEXT_KEY = "herald"
"""The key of the worker's resources in procrastinate's ``additional_context``."""


@dataclass(frozen=True)
class WorkerResources:
    """Opened once per worker process, shared by all its jobs (and the dispatch loop)."""

    db: Database
    http: aiohttp.ClientSession | None = None
    """The process's one pooled HTTP session for provider calls; each call sets its own
    timeout (the provider config's), the session bounds connections per process. ``None``
    only where a job is run by hand without a worker (tests of jobs that call no provider)."""

    def client(self) -> aiohttp.ClientSession:
        """The HTTP session, for jobs that call providers."""
        if self.http is None:
            raise RuntimeError("This worker has no HTTP session; start it with `herald worker`.")
        return self.http


HTTP_CONNECTIONS = 256
"""Open connections per worker process, all hosts together: the dispatch's calls in flight
(two lanes of 128) fit, so a provider call waits on the semaphore, not on the pool."""


@asynccontextmanager
async def worker_resources(url: str, *, pool_size: int) -> AsyncIterator[WorkerResources]:
    db = Database(url, pool_size=pool_size)
    connector = aiohttp.TCPConnector(limit=HTTP_CONNECTIONS, ttl_dns_cache=300)
    http = aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30, connect=5)
    )
    try:
        yield WorkerResources(db=db, http=http)
    finally:
        await http.close()
        await db.dispose()


def worker_context(resources: WorkerResources) -> dict[str, Any]:
    """The ``additional_context`` to start a procrastinate worker with."""
    return {CONTEXT_KEY: resources}


def resources_of(context: JobContext) -> WorkerResources:
    """The resources of the worker running this job (tasks take ``pass_context=True``)."""
    found = context.additional_context.get(CONTEXT_KEY)
    if not isinstance(found, WorkerResources):
        raise RuntimeError("This job ran outside a Herald worker; start one with `herald worker`.")
    return found


async def defer(
    session: AsyncSession,
    task: procrastinate.tasks.Task[Any, Any, Any],
    *,
    lock: str | None = None,
    queueing_lock: str | None = None,
    **task_kwargs: Any,
) -> int:
    """Defer ``task`` inside ``session``'s transaction; returns the job id."""
    connection = await (await session.connection()).get_raw_connection()
    deferrer = task.configure(
        connection=connection.driver_connection, lock=lock, queueing_lock=queueing_lock
    )
    return await deferrer.defer_async(**task_kwargs)
