"""The collector settings: bulk work (applied while any bulk block runs, then restored) and
serving (for a process's whole life)."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

from herald.kit.collector import YOUNG_THRESHOLD, bulk_work


def test_overlapping_blocks_share_the_setting_and_the_last_restores_it() -> None:
    before = gc.get_threshold()
    first, second = bulk_work(), bulk_work()

    first.__enter__()
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 0
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD  # the other block still runs
    second.__exit__(None, None, None)

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_are_still_collected_automatically_during_bulk_work() -> None:
    class Node:
        partner: object = None

    with bulk_work():
        node = Node()
        node.partner = node
        gone = weakref.ref(node)
        del node
        kept = [[] for _ in range(2 * YOUNG_THRESHOLD)]  # enough new containers for a pass

        assert gone() is None
        assert len(kept) == 2 * YOUNG_THRESHOLD


SERVING_CHECK = """
import gc, weakref
from herald.kit.collector import SERVING_YOUNG_THRESHOLD, bulk_work, tune_process_for_serving

tune_process_for_serving()
frozen = gc.get_freeze_count()
assert frozen > 0, frozen
assert gc.get_threshold()[0] == SERVING_YOUNG_THRESHOLD, gc.get_threshold()
with bulk_work():
    pass
assert gc.get_freeze_count() >= frozen, "bulk work unfroze a server's start-up"
assert gc.get_threshold()[0] == SERVING_YOUNG_THRESHOLD, gc.get_threshold()

class Node:
    partner = None

node = Node()
node.partner = node
gone = weakref.ref(node)
del node
kept = [[] for _ in range(2 * SERVING_YOUNG_THRESHOLD)]
assert gone() is None, "a cycle made while serving was never collected"
print("ok")
"""


def test_a_serving_process_stays_frozen_through_bulk_work_and_still_collects_cycles() -> None:
    """In a process of its own: the tuning is for a process's whole life."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and a constant script
        [sys.executable, "-c", SERVING_CHECK], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
