"""The agent store: one person (or `scale` people) per row, as a struct of NumPy arrays.

Rows are never deleted or reordered: an agent's row index is its identity (and its random-number
counter). Agents that finish (released, removed, gave up, ...) keep their row but leave the
`active` index list, so they cost no more work. 27 bytes per agent.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .codes import N_STATUS, NO_CROSSING, NO_LEG, NO_SECTOR

Agents = namedtuple("Agents", "nat status place leg crossing sector timer target attempts flags group since uid")

_FIELDS = (
    ("nat", np.int8), ("status", np.int8), ("place", np.int16), ("leg", np.int16),
    ("crossing", np.int8),   # the crossing taken today (status crossing)
    ("sector", np.int8),     # the Border Patrol sector holding the person (status us_custody)
    ("timer", np.int16),
    ("target", np.int8), ("attempts", np.int8), ("flags", np.uint8), ("group", np.int32), ("since", np.int16),
    ("uid", np.uint64),   # random-number identity (phases.common.person_key), stable across scenarios
)
BYTES_PER_AGENT = sum(np.dtype(t).itemsize for _, t in _FIELDS)
_EMPTY = {"leg": NO_LEG, "crossing": NO_CROSSING, "sector": NO_SECTOR}   # the value of a column nobody set


class Population:
    """Preallocated agent columns that grow geometrically between days (never inside a kernel)."""

    def __init__(self, capacity: int):
        capacity = max(int(capacity), 1024)
        self.cols = {name: np.zeros(capacity, dtype=t) for name, t in _FIELDS}
        for name, v in _EMPTY.items():
            self.cols[name][:] = v
        self.n = 0
        self.active = np.zeros(0, dtype=np.int64)
        self.bounds = (0, 0)  # active is [at the border | held in the US | in transit]

    @property
    def capacity(self) -> int:
        return len(self.cols["nat"])

    def reserve(self, extra: int) -> None:
        """Make room for `extra` more agents, growing by at least half to keep copies rare."""
        need = self.n + int(extra)
        if need <= self.capacity:
            return
        new = max(need, int(self.capacity * 1.5))
        for name, arr in self.cols.items():
            grown = np.zeros(new, dtype=arr.dtype)
            if name in _EMPTY:
                grown[:] = _EMPTY[name]
            grown[: self.n] = arr[: self.n]
            self.cols[name] = grown

    def view(self) -> Agents:
        return Agents(*(self.cols[name] for name, _ in _FIELDS))

    def status_counts(self) -> np.ndarray:
        """A full census of every agent ever created, by status (the audit of the incremental books)."""
        return np.bincount(self.cols["status"][: self.n].astype(np.int64), minlength=N_STATUS)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.cols.values())
