"""The layering of docs/conventions.md, checked on every test run as well as by `make lint`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_no_module_imports_upwards(monkeypatch: pytest.MonkeyPatch) -> None:
    """kit below every domain; in a domain, routes above services above repositories; the
    domains in their order (see .importlinter)."""
    monkeypatch.chdir(ROOT)
    status = lint_imports(config_filename=os.fspath(ROOT / ".importlinter"), no_cache=True)
    assert status == EXIT_STATUS_SUCCESS
