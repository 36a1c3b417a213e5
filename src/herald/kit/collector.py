"""Keeping Python's cyclic garbage collector out of the way of bulk work.

An import makes millions of short-lived containers (one list per CSV record, tuples per row)
that reference counting frees on its own. With the default thresholds the collector still
runs thousands of times during a large import, each pass rescanning the records in flight
and, on full passes, every object the application holds: about a fifth of an import's CPU
time, for nothing found. While bulk work runs, what exists is frozen (left out of every pass)
and the young generation is collected every ``YOUNG_THRESHOLD`` allocations instead of 700.
Cycles are still collected, only less often.

The setting is the process's: other work running meanwhile in the same process (another
task of a worker) runs with it too, which only delays the collection of its cycles, and the
last block out unfreezes every frozen object (nothing else in Herald freezes any).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLD = 20

_users = 0
_saved: tuple[int, int, int] | None = None


def tune_process_for_bulk_work() -> None:
    """The bulk setting, for good: for a process that does nothing but bulk work (an import's
    normalizer)."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)


@contextmanager
def bulk_work() -> Iterator[None]:
    """The bulk setting for the duration of the block; overlapping blocks (two imports in one
    worker) share it, and the last one out restores the defaults."""
    global _users, _saved
    if _users == 0:
        _saved = gc.get_threshold()
        tune_process_for_bulk_work()
    _users += 1
    try:
        yield
    finally:
        _users -= 1
        if _users == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            gc.unfreeze()
