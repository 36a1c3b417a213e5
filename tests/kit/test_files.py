"""Secret files are created once, whole, even when processes race to create them."""

from __future__ import annotations

import multiprocessing
import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from herald.kit.files import create_once


def _create(path: str, content: str) -> bytes:
    return create_once(Path(path), content.encode() * 10_000)


def test_racing_processes_all_get_the_same_content(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(8, mp_context=context) as pool:
        results = list(pool.map(_create, [str(target)] * 16, [f"k{i}" for i in range(16)]))
    assert len(set(results)) == 1
    assert results[0] == target.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]  # no temporary files left


def test_an_existing_file_wins(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    assert create_once(target, b"first") == b"first"
    assert create_once(target, b"second") == b"first"
