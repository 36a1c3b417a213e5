"""``herald templates check`` and ``render``: offline, no database."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from herald.cli import app

runner = CliRunner()


def test_check_reports_variables(tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_text("Hi {{ first_name }}, {{ custom.size }} {{ link }}")
    result = runner.invoke(app, ["templates", "check", str(body), "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["variables"] == ["custom", "first_name", "link"]
    assert (report["custom_fields"], report["uses_link"]) == (["size"], True)


def test_check_fails_on_errors() -> None:
    result = runner.invoke(app, ["templates", "check", "-"], input="Hi {{ nickname }}")
    assert result.exit_code == 1
    assert "nickname" in result.stderr
    result = runner.invoke(app, ["templates", "check", "-"], input="Hi {{ first_name ")
    assert result.exit_code == 1
    assert "line 1" in result.stderr


def test_render_with_values_and_footer() -> None:
    args = ["templates", "render", "-", "--set", "first_name=Jo", "--set", "custom.size=XL"]
    result = runner.invoke(app, args, input="Hi {{ first_name }}, {{ custom.size }} is back")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Hi Jo, XL is back\nReply STOP to opt out\n"
    refused = runner.invoke(app, ["templates", "render", "-"], input="{{ 'a' * 10**9 }}")
    assert refused.exit_code == 1
