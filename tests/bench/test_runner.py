"""The bench runner and the ``api`` scenario, run for real but small (no timing thresholds)."""

from __future__ import annotations

import os

import psycopg
from typer.testing import CliRunner

from herald.bench.runner import describe_environment, render_markdown, run_scenario, with_database
from herald.cli import app
from herald.kit.embedded import to_libpq_url

REPORTED = {
    "scenario",
    "size",
    "seconds",
    "rate",
    "baseline_rate",
    "ratio",
    "rss_mb",
    "cpu_seconds_per_1000",
    "unit",
    "runs",
    "extra",
}


async def test_api_scenario_reports_every_figure_and_drops_its_database(
    database_url: str,
) -> None:
    scratch = f"herald_test_bench_{os.getpid()}"

    result = await run_scenario("api", database_url, size=200, runs=1, database=scratch)

    assert set(result) >= REPORTED
    assert (result["scenario"], result["size"], result["units"]) == ("api", 200, 200)
    assert (result["unit"], result["runs"]) == ("requests", 1)
    assert result["rate"] > 0 and result["baseline_rate"] > 0 and result["ratio"] > 0
    assert result["rss_mb"] > 0 and result["cpu_seconds_per_1000"] > 0
    assert result["extra"]["concurrency"] == 32
    assert {"tenant_p50_ms", "healthz_p99_ms"} <= set(result["extra"])
    admin = with_database(to_libpq_url(database_url), "postgres")
    with psycopg.connect(admin) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (scratch,)).fetchone()
    assert left is None


def test_report_names_the_machine_and_every_scenario(database_url: str) -> None:
    environment = describe_environment(database_url)
    result = {
        "scenario": "api",
        "description": "authenticated GET",
        "size": 10,
        "unit": "requests",
        "seconds": 0.5,
        "rate": 20.0,
        "baseline_rate": 40.0,
        "ratio": 0.5,
        "rss_mb": 80.0,
        "cpu_seconds_per_1000": 3.0,
        "extra": {"concurrency": 32},
    }

    markdown = render_markdown([result], environment)

    assert environment["postgresql"] != "unknown"
    assert f"| postgresql | {environment['postgresql']} |" in markdown
    assert f"| cores | {os.cpu_count()} |" in markdown
    assert "| api | 10 | requests | 0.5 | 20.0 | 40.0 | 0.5 | 80.0 | 3.0 |" in markdown
    assert "## How to read this" in markdown


def test_unknown_scenario_is_refused_with_the_choices() -> None:
    outcome = CliRunner().invoke(app, ["bench", "nope"])

    assert outcome.exit_code == 2
    assert "api" in outcome.output
