"""Finding repeated keys (phone numbers, email hashes) across a whole file in little memory.

The keys seen so far are held as two sorted NumPy arrays (key, first line): 16 bytes a key,
where a Python dict of ints took over 100. Each chunk is looked up and merged with a few
vectorized operations instead of a Python step per row.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


def ints(values: list[int]) -> Ints:
    return np.array(values, dtype=np.int64)


class FirstLines:
    """The line on which each key was first seen, over the chunks given so far."""

    def __init__(self) -> None:
        self.keys: Ints = ints([])
        self.lines: Ints = ints([])

    def __len__(self) -> int:
        return len(self.keys)

    def first_lines(self, keys: Ints, lines: Ints) -> Ints:
        """For each row of a chunk (``keys[i]`` on ``lines[i]``, lines increasing): the line
        that first had its key, which is its own line for a first occurrence. The chunk's new
        keys are remembered with their first lines."""
        unique, first_index, inverse = np.unique(keys, return_index=True, return_inverse=True)
        chunk_first = lines[first_index]
        at = np.searchsorted(self.keys, unique)
        inside = at < len(self.keys)
        known = np.zeros(len(unique), dtype=bool)
        known[inside] = self.keys[at[inside]] == unique[inside]
        first = chunk_first.copy()
        first[known] = self.lines[at[known]]
        new = ~known
        self.keys = np.insert(self.keys, at[new], unique[new])
        self.lines = np.insert(self.lines, at[new], chunk_first[new])
        result: Ints = first[inverse.reshape(-1)]
        return result
