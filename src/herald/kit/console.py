"""Output helpers for CLI commands: JSON for machines, rich text for people."""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console

console = Console()
errors = Console(stderr=True)


def emit_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(payload, default=str).decode() + "\n")
