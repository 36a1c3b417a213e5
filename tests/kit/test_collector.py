"""The bulk-work collector setting: applied while any bulk block runs, then restored."""

from __future__ import annotations

import gc
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
