"""Entry points of the processes ``herald up`` supervises; each also runs on its own
(``herald api``, ``herald worker``, ``herald sim``) for production deployments."""

from __future__ import annotations

import asyncio

import uvicorn
from uvicorn.loops.auto import auto_loop_factory

from herald.audit.service import install_audit_listener
from herald.hook.flows import ProcessPolicy, run_processor
from herald.kit.collector import tune_process_for_serving
from herald.kit.database import database_url
from herald.kit.jobs import worker_context, worker_resources
from herald.kit.observability import configure_logging
from herald.message.dispatch import DispatchPolicy, run_dispatcher
from herald.settings import Settings
from herald.worker import build_task_app


def run_api(settings: Settings, *, workers: int | None = None, access_log: bool = False) -> None:
    """Serve the API with uvicorn (the app factory re-reads settings in each worker process)."""
    uvicorn.run(
        "herald.app:create_server_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        access_log=access_log,
        log_level=settings.log_level.lower(),
        proxy_headers=False,  # the app believes forwarded headers from HERALD_TRUSTED_PROXIES only
    )


def run_sim(settings: Settings) -> None:
    uvicorn.run(
        "herald.sim.app:create_sim_app",
        factory=True,
        host=settings.host,
        port=settings.sim_port,
        log_level=settings.log_level.lower(),
    )


def run_worker(settings: Settings, *, concurrency: int, shutdown_timeout: float) -> None:
    """Run jobs of every queue, and the periodic scheduler, until SIGINT/SIGTERM.

    On a signal, procrastinate stops fetching jobs and waits up to ``shutdown_timeout`` seconds
    for running ones before aborting them. The event loop is the API's (uvicorn's choice:
    uvloop where installed): the dispatch loop's provider calls spend much of their time in it.
    """
    configure_logging(settings)
    with (
        database_url(settings) as url,
        asyncio.Runner(loop_factory=auto_loop_factory()) as runner,
    ):
        runner.run(_work(url, concurrency, shutdown_timeout))


async def _work(url: str, concurrency: int, shutdown_timeout: float) -> None:
    """One engine and one HTTP session for every job of this process (a pool as large as the
    jobs that can run, plus one connection per dispatch lane).

    The dispatch loop runs as an asyncio task beside procrastinate's worker rather than as a
    long-running job: it lives and dies with the process, needs no lock to keep one per
    process, and a killed process leaves no job to recover. When procrastinate returns (a
    signal), the loop finishes its batch, records it, and stops.
    """
    install_audit_listener()  # what callbacks change is audited, as what API requests change is
    tasks = build_task_app(url)
    stop = asyncio.Event()
    policy = DispatchPolicy()
    pool_size = concurrency + policy.lanes
    pool_size += 2  # the webhook processor: its batch, and a handler's tenant transaction
    async with worker_resources(url, pool_size=pool_size) as resources, tasks.open_async():
        dispatcher = asyncio.create_task(
            run_dispatcher(resources.db, resources.client(), stop, policy)
        )
        processor = asyncio.create_task(run_processor(resources.db, stop, ProcessPolicy()))
        tune_process_for_serving()
        try:
            await tasks.run_worker_async(
                concurrency=concurrency,
                shutdown_graceful_timeout=shutdown_timeout,
                install_signal_handlers=True,
                additional_context=worker_context(resources),
            )
        finally:
            stop.set()
            await dispatcher
            await processor
