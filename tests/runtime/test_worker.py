"""A real worker, in process, against the test database: deferred and periodic jobs run."""

from __future__ import annotations

import asyncio
import contextlib
import time

from fastapi import FastAPI
from sqlalchemy import text

from herald.auth import tasks as auth_tasks
from herald.kit.database import Database
from herald.kit.jobs import WorkerResources, defer, worker_context
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


class _Rollback(Exception):
    pass


async def test_defer_joins_the_callers_transaction(database_url: str, db: Database) -> None:
    build_task_app(database_url)  # binds the blueprints' tasks, as every process does
    async with db.system_session() as session:
        kept = await defer(session, auth_tasks.cleanup, timestamp=1)
    with contextlib.suppress(_Rollback):
        async with db.system_session() as session:
            dropped = await defer(session, auth_tasks.cleanup, timestamp=2)
            raise _Rollback
    async with db.system_session() as session:
        query = text("SELECT id FROM procrastinate_jobs WHERE id IN (:kept, :dropped)")
        found = set((await session.execute(query, {"kept": kept, "dropped": dropped})).scalars())
    assert found == {kept}


async def test_a_worker_hands_its_one_database_to_every_job(
    database_url: str, db: Database
) -> None:
    """Jobs that need the database get the worker's own (``pass_context``), not one each."""
    tasks = build_task_app(database_url)
    async with tasks.open_async():
        async with db.system_session() as session:
            job_ids = [await defer(session, auth_tasks.cleanup, timestamp=t) for t in (3, 4)]
        worker = asyncio.create_task(
            tasks.run_worker_async(
                queues=["auth"],
                install_signal_handlers=False,
                listen_notify=False,
                fetch_job_polling_interval=0.2,
                additional_context=worker_context(WorkerResources(db=db)),
            )
        )
        try:
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline:
                statuses = {await _status(db, job_id) for job_id in job_ids}
                if statuses <= {"succeeded", "failed"}:
                    break
                await asyncio.sleep(0.2)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
    assert [await _status(db, job_id) for job_id in job_ids] == ["succeeded", "succeeded"]
