"""Peak resident memory of a process tree, sampled while a benchmark runs.

``getrusage`` cannot give this: it reports one process's peak, and a child started by
fork-and-exec inherits its parent's resident size as its own peak, so parent and children
cannot be added up. Sampling the whole tree (this process and every live descendant) gives
what the machine actually had to hold at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

INTERVAL_SECONDS = 0.1


def tree_rss_bytes(root: psutil.Process) -> int:
    """Resident bytes of ``root`` and all its live descendants now. Pages shared between
    them (libraries) count once per process: an upper bound of what they hold."""
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:  # it ended between the listing and the reading, or is not ours
            continue
    return total


class PeakMemory:
    """The highest ``tree_rss_bytes`` of a process (this one by default) seen while the
    ``sampling()`` block ran."""

    def __init__(self, root: psutil.Process | None = None) -> None:
        self.root = root or psutil.Process()
        self.peak_bytes = 0

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 1024 / 1024

    def sample(self) -> None:
        self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.root))

    @contextmanager
    def sampling(self) -> Iterator[PeakMemory]:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(INTERVAL_SECONDS):
                self.sample()

        self.sample()
        thread = threading.Thread(target=loop, name="peak-memory", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
            self.sample()
