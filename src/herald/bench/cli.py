"""``herald bench SCENARIO`` and ``herald bench all --write docs/benchmarks.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from herald.bench.registry import SCENARIOS
from herald.bench.runner import render_markdown, run_benchmarks
from herald.kit.console import console, emit_json, errors
from herald.settings import get_settings

ALL = "all"


def bench(
    scenario: Annotated[str, typer.Argument(help="A scenario name, or 'all'.")],
    size: Annotated[
        int | None, typer.Option(min=1, help="Units per run (default: the scenario's own).")
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="Runs per scenario; the median is kept.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per scenario.")] = False,
    write: Annotated[
        Path | None, typer.Option(help="Write a Markdown report (e.g. docs/benchmarks.md).")
    ] = None,
) -> None:
    """Measure a scenario against its baseline, in a fresh database of its own."""
    if scenario != ALL and scenario not in SCENARIOS:
        choices = ", ".join([*sorted(SCENARIOS), ALL])
        raise typer.BadParameter(f"unknown scenario {scenario!r}; choose one of: {choices}")
    names = sorted(SCENARIOS) if scenario == ALL else [scenario]
    results, environment = run_benchmarks(names, get_settings(), size=size, runs=runs)
    for result in results:
        if as_json:
            emit_json(result)
        else:
            console.print(
                f"[bold]{result['scenario']}[/]: {result['rate']:,} {result['unit']}/s, "
                f"baseline {result['baseline_rate']:,}/s, ratio {result['ratio']}, "
                f"peak RSS {result['rss_mb']} MB"
            )
    if write is not None:
        write.write_text(render_markdown(results, environment))
        (errors if as_json else console).print(f"wrote {write}")
