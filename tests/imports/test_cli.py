from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from herald.cli import app
from herald.imports import cli, pipeline
from tests.conftest import TenantFixture

runner = CliRunner()


@pytest.mark.usefixtures("cli_env")
class TestImportCommand:
    def test_json_output(self, tenant: TenantFixture, tmp_path: Path) -> None:
        path = tmp_path / "people.csv"
        path.write_text("Phone,Email\n+12122345678,a@example.com\n+12122345679,\nbad,\n")
        args = ["contacts", "import", str(path), "--tenant", str(tenant.id), "--json"]
        result = runner.invoke(app, [*args, "--tags", "cli, vip"])
        assert result.exit_code == 0, result.output
        out = orjson.loads(result.stdout)
        assert {k: out[k] for k in ("created", "updated", "skipped", "rejected")} == {
            "created": 2,
            "updated": 0,
            "skipped": 0,
            "rejected": 1,
        }
        assert out["status"] == "completed" and out["seconds"] >= 0
        assert len(out["batch_id"]) == 36

        again = runner.invoke(app, args)
        assert again.exit_code == 1
        refusal = " ".join(again.stderr.split())
        assert f"already imported as batch {out['batch_id']}" in refusal
        assert "--force" in refusal

        forced = runner.invoke(app, [*args, "--force"])
        assert forced.exit_code == 0, forced.output
        assert orjson.loads(forced.stdout)["updated"] == 2

    def test_progress_bar_on_a_terminal(
        self, tenant: TenantFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(cli, "_is_terminal", lambda: True)
        monkeypatch.setattr(pipeline, "CHUNK_ROWS", 2)
        path = tmp_path / "people.csv"
        rows = "".join(f"+1212234{5600 + i}\n" for i in range(7))
        path.write_text("phone\n" + rows)
        result = runner.invoke(app, ["contacts", "import", str(path), "--tenant", str(tenant.id)])
        assert result.exit_code == 0, result.output
        assert "7 new, 0 updated, 0 rejected" in result.stdout
        assert "completed" in result.stdout and "7 created" in result.stdout

    def test_unreadable_file(self, tenant: TenantFixture, tmp_path: Path) -> None:
        path = tmp_path / "names.csv"
        path.write_text("name\nAnn\n")
        result = runner.invoke(app, ["contacts", "import", str(path), "--tenant", str(tenant.id)])
        assert result.exit_code == 1
        assert "No phone column" in " ".join(result.stderr.split())

    def test_bad_mapping_option(self, tenant: TenantFixture, tmp_path: Path) -> None:
        path = tmp_path / "people.csv"
        path.write_text("Phone\n+12122345678\n")
        args = ["contacts", "import", str(path), "--tenant", str(tenant.id), "--mapping", "{x"]
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert "Invalid options" in result.stderr
