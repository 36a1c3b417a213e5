"""A real worker, in process, against the test database: deferred and periodic jobs run."""

from __future__ import annotations

import asyncio
import contextlib
import time

from fastapi import FastAPI
from sqlalchemy import text

from herald.kit.database import Database
from herald.worker import build_task_app

HEARTBEAT = "runtime:heartbeat"
DEADLINE = 60.0


async def _status(db: Database, job_id: int) -> str:
    async with db.system_session() as session:
        query = text("SELECT status::text FROM procrastinate_jobs WHERE id = :id")
        return str((await session.execute(query, {"id": job_id})).scalar_one())


async def _periodic_statuses(db: Database) -> list[str]:
    async with db.system_session() as session:
        query = text(
            "SELECT j.status::text FROM procrastinate_periodic_defers d "
            "JOIN procrastinate_jobs j ON j.id = d.job_id WHERE d.task_name = :task"
        )
        return [str(s) for s in (await session.execute(query, {"task": HEARTBEAT})).scalars()]


async def test_api_lifespan_opens_the_task_app_so_requests_can_defer(
    app: FastAPI, db: Database
) -> None:
    async with app.router.lifespan_context(app):
        job_id = await app.state.tasks.configure_task(HEARTBEAT).defer_async(
            timestamp=int(time.time())
        )
    assert await _status(db, job_id) in {"todo", "doing", "succeeded"}


async def test_worker_runs_a_deferred_job_and_the_periodic_heartbeat(
    database_url: str, db: Database
) -> None:
    tasks = build_task_app(database_url)
    async with tasks.open_async():
        job_id = await tasks.configure_task(HEARTBEAT).defer_async(timestamp=int(time.time()))
        worker = asyncio.create_task(
            tasks.run_worker_async(
                queues=["runtime"],
                install_signal_handlers=False,
                listen_notify=False,
                fetch_job_polling_interval=0.2,
            )
        )
        try:
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline:
                periodic = await _periodic_statuses(db)
                if await _status(db, job_id) == "succeeded" and "succeeded" in periodic:
                    break
                await asyncio.sleep(0.2)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    assert await _status(db, job_id) == "succeeded"
    assert "succeeded" in await _periodic_statuses(db)
