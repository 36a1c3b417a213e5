"""Files holding secrets in the data dir: private, written whole, created once."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _private_temp(path: Path, content: bytes) -> Path:
    """``content`` in a new file beside ``path``, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return tmp


def create_once(path: Path, content: bytes) -> bytes:
    """Create ``path`` with ``content`` unless it exists, and return what the file holds.

    Processes starting together on a new data dir race here; the file appears whole (a hard
    link of a finished file) and only once, so every process ends up with the same secret.
    """
    if not path.exists():
        tmp = _private_temp(path, content)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: theirs is the one
        finally:
            tmp.unlink()
    return path.read_bytes()


def replace_private(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` atomically (readers see the old or the new file)."""
    _private_temp(path, content).replace(path)
