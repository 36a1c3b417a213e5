"""The process-tree memory sampler, against real child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from herald.bench.memory import PeakMemory, tree_rss_bytes

HOLD_200_MB = (
    "import sys, time; block = bytearray(200 * 1024 * 1024); print('ok', flush=True); "
    "time.sleep(30)"
)


def test_tree_includes_a_live_child_and_its_memory() -> None:
    alone = tree_rss_bytes(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", HOLD_200_MB], stdout=subprocess.PIPE)  # noqa: S603
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"ok"

        with_child = tree_rss_bytes(os.getpid())

        assert with_child - alone >= 190 * 1024 * 1024
        assert tree_rss_bytes(child.pid) >= 190 * 1024 * 1024
    finally:
        child.kill()
        child.wait()


def test_peak_remembers_a_child_that_has_ended() -> None:
    memory = PeakMemory()
    with memory.sampling():
        child = subprocess.Popen([sys.executable, "-c", HOLD_200_MB], stdout=subprocess.PIPE)  # noqa: S603
        assert child.stdout is not None and child.stdout.readline().strip() == b"ok"
        time.sleep(0.3)  # a few sampling intervals while it holds the memory
        child.kill()
        child.wait()

    assert memory.peak_mb >= 190
    assert tree_rss_bytes(os.getpid()) < memory.peak_bytes - 150 * 1024 * 1024
