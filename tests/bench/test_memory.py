"""The process-tree memory sampler, against real child processes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

from herald.bench.memory import PeakMemory, tree_rss_bytes

MB = 1024 * 1024
HOLD_200_MB = "import time; block = bytearray(200 * 1024 * 1024); print('ok', flush=True); " + (
    "time.sleep(30)"
)


@contextmanager
def child_holding_200_mb() -> Iterator[psutil.Process]:
    child = subprocess.Popen([sys.executable, "-c", HOLD_200_MB], stdout=subprocess.PIPE)  # noqa: S603
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"ok"
        yield psutil.Process(child.pid)
    finally:
        child.kill()
        child.wait()


def test_tree_includes_a_live_child_and_its_memory() -> None:
    me = psutil.Process()
    alone = tree_rss_bytes(me)

    with child_holding_200_mb() as child:
        assert tree_rss_bytes(me) - alone >= 190 * MB
        assert tree_rss_bytes(child) >= 190 * MB


def test_peak_remembers_a_child_that_has_ended() -> None:
    memory = PeakMemory()
    with memory.sampling(), child_holding_200_mb():
        time.sleep(0.3)  # a few sampling intervals while it holds the memory

    assert memory.peak_mb >= 190
    assert tree_rss_bytes(psutil.Process()) < memory.peak_bytes - 150 * MB
