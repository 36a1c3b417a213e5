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
last block out unfreezes every frozen object, unless the process serves (below).

A serving process (``herald api``, ``herald worker``) is tuned the same way once, when it has
started: its modules, app, routes and OpenAPI document are frozen, and the young generation is
collected every ``SERVING_YOUNG_THRESHOLD`` allocations. With the defaults, a callback-heavy
API spent about a third of its CPU in the collector, and every second or so a full pass over
the whole heap held all 64 requests in flight for over 100 ms (p99 240 ms against 43 ms
tuned, 1,460 against 2,850 callbacks a second; the ``receipts`` bench on two cores). Requests
make short-lived objects that reference counting frees; cycles are still collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLD = 20
SERVING_YOUNG_THRESHOLD = 10_000

_users = 0
_saved: tuple[int, int, int] | None = None
_serving = False


def tune_process_for_serving() -> None:
    """For a long-running server, once its start-up is done: collect what start-up left,
    freeze the rest, and collect the young generation less often."""
    global _serving
    gc.collect()
    gc.freeze()
    gc.set_threshold(SERVING_YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
    _serving = True


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
            if not _serving:  # a server's frozen start-up stays frozen
                gc.unfreeze()
