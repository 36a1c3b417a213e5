"""Peak resident memory of a process tree, sampled while a benchmark runs (Linux ``/proc``).

``getrusage`` cannot give this: it reports one process's peak, and a child started by
fork-and-exec inherits its parent's resident size as its own peak, so parent and children
cannot be added up. Sampling the whole tree (this process and every live descendant) gives
what the machine actually had to hold at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROC = Path("/proc")
INTERVAL_SECONDS = 0.1
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _parents_and_rss() -> dict[int, tuple[int, int]]:
    """pid → (parent pid, resident bytes) for every process still readable."""
    found: dict[int, tuple[int, int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        # Fields after the command name, which may itself hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), int(fields[21]) * PAGE_BYTES)
    return found


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of ``root`` and all its live descendants now."""
    processes = _parents_and_rss()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += processes.get(pid, (0, 0))[1]
        todo.extend(children.get(pid, ()))
    return total


class PeakMemory:
    """The highest ``tree_rss_bytes`` seen while the ``sampling()`` block ran."""

    def __init__(self, root: int | None = None) -> None:
        self.root = root or os.getpid()
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
