"""Repeated keys across chunks: the same answers as a plain dict, for any chunking."""

from __future__ import annotations

import random

from herald.imports.dedupe import FirstLines, ints


def _reference(rows: list[tuple[int, int]]) -> list[int]:
    first: dict[int, int] = {}
    return [first.setdefault(key, line) for key, line in rows]


def _chunked(rows: list[tuple[int, int]], size: int) -> list[int]:
    seen, out = FirstLines(), []
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        keys, lines = ints([k for k, _ in chunk]), ints([line for _, line in chunk])
        out.extend(seen.first_lines(keys, lines).tolist())
    return out


def test_first_lines_match_a_dict_for_any_chunk_size() -> None:
    rng = random.Random(3)
    rows = [(rng.randrange(-50, 400) * 10**9, line) for line in range(2, 3002)]
    expected = _reference(rows)
    for size in (1, 7, 100, 3000):
        assert _chunked(rows, size) == expected


def test_repeats_inside_one_chunk_and_across_chunks() -> None:
    seen = FirstLines()

    first = seen.first_lines(ints([15551230001, 15551230002, 15551230001]), ints([2, 3, 4]))
    second = seen.first_lines(ints([15551230002, 15551230003]), ints([5, 6]))

    assert first.tolist() == [2, 3, 2]
    assert second.tolist() == [3, 6]
    assert len(seen) == 3


def test_an_empty_chunk_changes_nothing() -> None:
    seen = FirstLines()
    seen.first_lines(ints([7]), ints([2]))

    assert seen.first_lines(ints([]), ints([])).tolist() == []
    assert seen.first_lines(ints([7]), ints([3])).tolist() == [2]


def test_runs_stay_few_and_sorted_over_many_chunks() -> None:
    seen = FirstLines()
    for chunk in range(200):
        keys = ints([chunk * 1000 + k for k in range(50)])
        seen.first_lines(keys, keys + 1)

    assert len(seen) == 200 * 50
    assert len(seen.runs) <= 10  # logarithmic in the number of chunks
    sizes = [len(run) for run in seen.runs]
    assert sizes == sorted(sizes, reverse=True)
    for run in seen.runs:
        assert (run.keys[:-1] < run.keys[1:]).all()
