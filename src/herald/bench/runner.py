"""Runs benchmark scenarios, each in a fresh, migrated database of its own, and reports them.

Every scenario runs ``runs`` times on the same database; the run with the median time is
reported, with the peak memory of the process tree and CPU time per 1,000 units.
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from herald.bench.memory import PeakMemory
from herald.bench.registry import SCENARIOS
from herald.bench.types import BenchContext, Measurement
from herald.kit.database import Database, database_url
from herald.kit.embedded import ensure_database, to_libpq_url
from herald.migrations import upgrade
from herald.settings import Settings

DATABASE_PREFIX = "herald_bench_"


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server (query string kept)."""
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Timed:
    measurement: Measurement
    cpu_seconds: float
    peak_rss_mb: float


async def run_scenario(
    name: str,
    server_url: str,
    *,
    size: int | None = None,
    runs: int = 3,
    database: str | None = None,
) -> dict[str, Any]:
    """Run scenario ``name`` ``runs`` times in a fresh database on ``server_url``'s server.

    The database (``herald_bench_<name>`` unless given) is dropped afterwards.
    """
    spec = SCENARIOS[name]
    size = size or spec.default_size
    database = database or DATABASE_PREFIX + name
    admin_url = with_database(to_libpq_url(server_url), "postgres")
    ensure_database(admin_url, database, recreate=True)
    url = with_database(server_url, database)
    try:
        await asyncio.to_thread(upgrade, url)
        db = Database(url, pool_size=5)
        try:
            with tempfile.TemporaryDirectory(prefix=f"herald-bench-{name}-") as workdir:
                ctx = BenchContext(db=db, database_url=url, workdir=Path(workdir))
                timings = [await _timed(spec.run(ctx, size)) for _ in range(runs)]
        finally:
            await db.dispose()
    finally:
        _drop_database(admin_url, database)
    return report(name, size, timings)


async def _timed(run: Any) -> Timed:
    started = _cpu_seconds()
    with PeakMemory().sampling() as memory:
        measurement: Measurement = await run
    return Timed(measurement, _cpu_seconds() - started, memory.peak_mb)


def report(name: str, size: int, timings: list[Timed]) -> dict[str, Any]:
    """The run with the median time, as one JSON-ready dict."""
    median = sorted(timings, key=lambda t: t.measurement.seconds)[len(timings) // 2]
    m = median.measurement
    return {
        "scenario": name,
        "description": SCENARIOS[name].description,
        "size": size,
        "units": m.units,
        "unit": m.unit,
        "seconds": round(m.seconds, 4),
        "baseline_seconds": round(m.baseline_seconds, 4),
        "rate": round(m.rate, 1),
        "baseline_rate": round(m.baseline_rate, 1),
        "ratio": round(m.ratio, 3),
        "rss_mb": round(max(t.peak_rss_mb for t in timings), 1),
        "cpu_seconds_per_1000": round(median.cpu_seconds * 1000 / m.units, 4) if m.units else 0.0,
        "runs": len(timings),
        "extra": m.extra,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _drop_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def run_benchmarks(
    names: list[str], settings: Settings, *, size: int | None, runs: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Run ``names`` on the configured (or embedded) server; return results and the machine."""
    with database_url(settings) as url:

        async def main() -> list[dict[str, Any]]:
            return [await run_scenario(name, url, size=size, runs=runs) for name in names]

        results = asyncio.run(main())
        environment = describe_environment(url)
    return results, environment


def describe_environment(url: str) -> dict[str, str]:
    with psycopg.connect(to_libpq_url(url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_commit(),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count() or "unknown"),
        "memory": _memory(),
        "python": platform.python_version(),
        "postgresql": str(row[0]) if row else "unknown",
        "os": f"{platform.system()} {platform.release()}",
        "load average": f"{os.getloadavg()[0]:.2f} (1 min, when the report was written)",
    }


def _git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def _cpu_model() -> str:
    return _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown"


def _memory() -> str:
    total = _proc_field("/proc/meminfo", "MemTotal")
    if not total:
        return "unknown"
    return f"{int(total.split()[0]) / 1024 / 1024:.1f} GiB"


def _proc_field(path: str, field: str) -> str | None:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == field:
            return value.strip()
    return None


def render_markdown(results: list[dict[str, Any]], environment: dict[str, str]) -> str:
    """docs/benchmarks.md: the machine, the figures, and how to read them."""
    head = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`herald bench all --write docs/benchmarks.md`); do not edit by "
        "hand.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in environment.items()),
        "",
        "## Results",
        "",
        "| scenario | size | unit | seconds | rate /s | baseline /s | ratio | peak RSS MB "
        "| CPU s per 1,000 |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [
        f"| {r['scenario']} | {r['size']} | {r['unit']} | {r['seconds']} | {r['rate']} "
        f"| {r['baseline_rate']} | {r['ratio']} | {r['rss_mb']} | {r['cpu_seconds_per_1000']} |"
        for r in results
    ]
    details = ["", "## Scenarios", ""]
    for r in results:
        extra = ", ".join(f"{k} = {v}" for k, v in r["extra"].items())
        details.append(
            f"- **{r['scenario']}**: {r['description']}" + (f" ({extra})" if extra else "")
        )
    return "\n".join([*head, *rows, *details, "", HOW_TO_READ]) + "\n"


HOW_TO_READ = """## How to read this

Each scenario runs in a fresh, migrated database, several times; the run with the median time
is shown. *rate* is units per second for Herald's own code path; *baseline* is the simplest
thing that does comparable work on the same server and data in the same run (for example the
API's unauthenticated `/healthz` for an authenticated API call), and *ratio* = rate / baseline:
it says how much of the machine's raw speed Herald's code keeps, and it is the figure to compare
across machines. *Peak RSS* is the highest resident memory of the benchmark process and all
its live child processes together (for example an import's normalizer processes or the API
server a scenario starts), sampled every 0.1 s during each run; the highest run is shown.
The database server is not included. *CPU s per 1,000* is the benchmark
process's own CPU time per 1,000 units; work done in a server process a scenario starts is
reported in its details instead.
"""
