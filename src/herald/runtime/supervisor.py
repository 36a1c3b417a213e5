"""``herald up``: the embedded all-in-one, supervised in the foreground.

The supervisor resolves the database (starting the embedded PostgreSQL unless
``HERALD_DATABASE_URL`` is set), migrates it, makes the first-run demo, then starts the API
(which also serves the provider simulator under ``/sim``) and a worker as child processes
that attach to that database. It waits until the API is ready, prints where everything is,
and watches: a child that dies takes the others down with it (exit 1); SIGINT/SIGTERM stops
the children, then the database it started (exit 0).

Each child leads its own session (process group): a terminal's Ctrl-C reaches only the
supervisor, which stops the children in order, and a stop signal to the group also reaches a
child's own children (uvicorn workers). On Linux a child is also told to exit if the supervisor
itself is killed, so nothing is orphaned even then.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType

from herald.demo import DemoAccess, ensure_demo
from herald.kit.console import console, errors
from herald.kit.database import Database, database_url
from herald.migrations import upgrade
from herald.settings import Settings

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
"""Seconds a child gets to stop after SIGTERM before SIGKILL (the worker finishes jobs first)."""
WORKER_SHUTDOWN_TIMEOUT = 15.0
POLL_INTERVAL = 0.2
PR_SET_PDEATHSIG = 1

CHILD_COMMANDS: dict[str, list[str]] = {
    "api": ["api"],
    "worker": ["worker", "--shutdown-timeout", str(WORKER_SHUTDOWN_TIMEOUT)],
}


class Unhealthy(RuntimeError):
    """A child exited, or the API did not get ready in time."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def herald_command(args: Sequence[str]) -> list[str]:
    """The ``herald`` command line with ``args``, run by this very interpreter."""
    return [sys.executable, "-c", "from herald.cli import main; main()", *args]


def run_up(settings: Settings) -> int:
    """Run everything until a signal (returns 0) or a child's death (returns 1)."""
    stop = threading.Event()
    previous = _install_stop_handlers(stop)
    try:
        with database_url(settings) as url:
            upgrade(url)
            demo = asyncio.run(_first_run(settings, url))
            if stop.is_set():
                return 0
            return _supervise(settings, url, demo, stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


async def _first_run(settings: Settings, url: str) -> DemoAccess | None:
    db = Database(url, pool_size=1)
    try:
        return await ensure_demo(settings, db)
    finally:
        await db.dispose()


def _supervise(settings: Settings, url: str, demo: DemoAccess | None, stop: threading.Event) -> int:
    env = {**os.environ, "HERALD_DATABASE_URL": url}
    children: list[Child] = []
    try:
        for name, args in CHILD_COMMANDS.items():
            children.append(Child(name, _spawn(args, env)))
        _wait_ready(settings, children, stop)
        if not stop.is_set():
            print_banner(settings, demo)
        while not stop.wait(POLL_INTERVAL):
            _check_alive(children)
    except Unhealthy as exc:
        errors.print(f"[bold red]{exc}[/]; stopping the others")
        return 1
    finally:
        stop_children(children)
    return 0


def _spawn(args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and command line
        herald_command(args), env=env, start_new_session=True, preexec_fn=_die_with_parent
    )


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM should the supervisor die."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _check_alive(children: Sequence[Child]) -> None:
    for child in children:
        code = child.process.poll()
        if code is not None:
            raise Unhealthy(f"herald {child.name} exited with code {code}")


def _wait_ready(settings: Settings, children: Sequence[Child], stop: threading.Event) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    probes = [f"{local_url(settings, settings.port)}/readyz"]
    if settings.sim_enabled:
        probes.append(f"{local_url(settings, settings.port)}/sim/healthz")
    while probes and not stop.is_set():
        _check_alive(children)
        if time.monotonic() > deadline:
            raise Unhealthy(f"not ready after {READY_TIMEOUT:.0f} s ({', '.join(probes)})")
        probes = [probe for probe in probes if http_status(probe) != 200]
        stop.wait(POLL_INTERVAL)


def stop_children(children: Sequence[Child]) -> None:
    """SIGTERM every child's process group, wait, then SIGKILL what is left."""
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            errors.print(f"herald {child.name} did not stop in time; killing it")
    for child in children:
        _signal_group(child, signal.SIGKILL)
        child.process.wait()


def _signal_group(child: Child, signum: signal.Signals) -> None:
    try:
        os.killpg(child.process.pid, signum)
    except ProcessLookupError:
        return


def _install_stop_handlers(stop: threading.Event) -> dict[int, Callable[..., object] | int | None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, Callable[..., object] | int | None] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)
    return previous


def local_url(settings: Settings, port: int) -> str:
    """Where this machine reaches a server bound to ``settings.host``."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{port}"


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http(s) only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def send_example(api: str, demo: DemoAccess) -> str:
    """The curl line sending one SMS through the demo's simulator channel."""
    body = (
        f'{{"channel_id": "{demo.channel_id}", "to": "+12025550143", "body": "Hello from Herald"}}'
    )
    return (
        f"curl -H 'Authorization: Bearer {demo.api_key}' -H 'Content-Type: application/json' "
        f"-d '{body}' {api}/v1/messages  (then see it: curl {api}/sim/messages)"
    )


def print_banner(settings: Settings, demo: DemoAccess | None) -> None:
    api = settings.base_url
    lines = [
        "[bold green]Herald is running.[/] Ctrl-C stops everything.",
        f"  API        {api}",
        f"  API docs   {api}/docs",
    ]
    if settings.sim_enabled:
        lines.append(f"  Simulator  {api}/sim (docs {api}/sim/docs)")
    if http_status(f"{local_url(settings, settings.port)}/metrics") == 200:
        lines.append(f"  Metrics    {api}/metrics")
    if demo is not None:
        lines.append(f"  Demo tenant {demo.tenant_id}, API key [bold]{demo.api_key}[/]")
        lines.append(f"  Try: curl -H 'Authorization: Bearer {demo.api_key}' {api}/v1/tenant")
        if demo.channel_id:
            lines.append(f"  Send an SMS through the simulator: {send_example(api, demo)}")
    for line in lines:
        console.print(line, soft_wrap=True)
    sys.stdout.flush()
