"""The process commands: ``herald up``, ``herald api``, ``herald worker``, ``herald sim``."""

from __future__ import annotations

from typing import Annotated

import typer

from herald.runtime import processes
from herald.runtime.supervisor import run_up
from herald.settings import get_settings


def up() -> None:
    """Run the API, a worker and the provider simulator (and the embedded PostgreSQL)."""
    raise typer.Exit(run_up(get_settings()))


def api(
    workers: Annotated[
        int | None, typer.Option(min=1, help="uvicorn worker processes (default: one).")
    ] = None,
    access_log: Annotated[
        bool, typer.Option(help="Add uvicorn's access log (Herald logs each request anyway).")
    ] = False,
) -> None:
    """Serve the HTTP API on HERALD_HOST:HERALD_PORT."""
    processes.run_api(get_settings(), workers=workers, access_log=access_log)


def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once.")] = 10,
    shutdown_timeout: Annotated[
        float, typer.Option(min=0, help="Seconds running jobs get to finish on stop.")
    ] = 30.0,
) -> None:
    """Run background jobs of every queue, and the periodic scheduler."""
    processes.run_worker(get_settings(), concurrency=concurrency, shutdown_timeout=shutdown_timeout)


def sim() -> None:
    """Serve the provider simulator on HERALD_HOST:HERALD_SIM_PORT, under /sim."""
    processes.run_sim(get_settings())
