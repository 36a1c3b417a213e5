"""Finding repeated keys (phone numbers, email hashes) across a whole file in little memory.

The keys seen so far are held in sorted NumPy arrays (key, first line): 16 bytes a key, where
a Python dict of ints took over 100. Each chunk is looked up and added with a few vectorized
operations instead of a Python step per row.

The arrays are a handful of sorted runs whose sizes at least double from the newest to the
oldest, merged like the carries of a binary counter: adding a chunk copies each key a
logarithmic number of times over the whole file, where keeping one array would copy all the
keys for every chunk (quadratic: seconds for a few million rows).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


def ints(values: list[int]) -> Ints:
    return np.array(values, dtype=np.int64)


class _Run:
    """Sorted, distinct keys with the line each was first seen on."""

    def __init__(self, keys: Ints, lines: Ints) -> None:
        self.keys = keys
        self.lines = lines

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, keys: Ints) -> tuple[npt.NDArray[np.bool_], Ints]:
        """Which of ``keys`` (distinct) are in the run, and where."""
        at = np.searchsorted(self.keys, keys)
        inside = at < len(self.keys)
        found = np.zeros(len(keys), dtype=bool)
        found[inside] = self.keys[at[inside]] == keys[inside]
        return found, at

    def merged(self, newer: _Run) -> _Run:
        """Both runs in one, in linear time (their keys are distinct)."""
        size = len(self) + len(newer)
        at = np.searchsorted(self.keys, newer.keys) + np.arange(len(newer))
        mine = np.ones(size, dtype=bool)
        mine[at] = False
        keys, lines = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
        keys[at], lines[at] = newer.keys, newer.lines
        keys[mine], lines[mine] = self.keys, self.lines
        return _Run(keys, lines)


class FirstLines:
    """The line on which each key was first seen, over the chunks given so far."""

    def __init__(self) -> None:
        self.runs: list[_Run] = []
        """Oldest (largest) first."""

    def __len__(self) -> int:
        return sum(len(run) for run in self.runs)

    def first_lines(self, keys: Ints, lines: Ints) -> Ints:
        """For each row of a chunk (``keys[i]`` on ``lines[i]``, lines increasing): the line
        that first had its key, which is its own line for a first occurrence. The chunk's new
        keys are remembered with their first lines."""
        unique, first_index, inverse = np.unique(keys, return_index=True, return_inverse=True)
        first = lines[first_index]
        known = np.zeros(len(unique), dtype=bool)
        for run in self.runs:
            found, at = run.find(unique)
            first[found] = run.lines[at[found]]
            known |= found
        if not known.all():
            self._add(_Run(unique[~known], lines[first_index][~known]))
        result: Ints = first[inverse.reshape(-1)]
        return result

    def _add(self, run: _Run) -> None:
        while self.runs and len(self.runs[-1]) <= 2 * len(run):
            run = self.runs.pop().merged(run)
        self.runs.append(run)
