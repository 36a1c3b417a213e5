"""``herald whatsapp check``: a valid file, its submission payload, and a file with problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from herald.cli import app
from tests.whatsapp.helpers import ORDER_BODY, Draft, body

runner = CliRunner()


def write(tmp_path: Path, content: dict[str, Any]) -> str:
    path = tmp_path / "template.json"
    path.write_bytes(orjson.dumps(content))
    return str(path)


def test_valid_file(tmp_path: Path) -> None:
    path = write(tmp_path, Draft().body())
    result = runner.invoke(app, ["whatsapp", "check", path])
    assert result.exit_code == 0, result.output
    assert "order_ready (en_US) is valid" in result.output
    result = runner.invoke(app, ["whatsapp", "check", path, "--payload"])
    assert orjson.loads(result.stdout)["components"] == [ORDER_BODY]


def test_file_with_problems(tmp_path: Path) -> None:
    path = write(tmp_path, Draft([body("Hi {{2}} there.", ["a"])], name="Bad").body())
    result = runner.invoke(app, ["whatsapp", "check", path])
    assert result.exit_code == 1
    assert "name" in result.stderr and "components[0].text" in result.stderr


def test_unreadable_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["whatsapp", "check", str(tmp_path / "missing.json")])
    assert result.exit_code == 2
