"""The agent store: one person (or `scale` people) per row, as a struct of NumPy arrays, live agents only.

Each night the census partitions the rows in place into [at the border | held in the US | in transit |
finished] and drops the finished (released, removed, gave up, ...), so the agents still on their way are
rows [0, n); the finished ones' number by final status is kept in `retired`, counted from their rows, so
the books are audited every day.
A day's passes therefore read dense memory, and the store holds a few hundred thousand rows instead of
everyone ever created. An agent's identity is its
`uid` (its random-number counter), never its row. 27 bytes per agent.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .codes import N_STATUS, NO_CROSSING, NO_LEG, NO_SECTOR
from .packed import Packed, pack

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


def _columns(capacity: int) -> dict[str, np.ndarray]:
    cols = {name: np.zeros(capacity, dtype=t) for name, t in _FIELDS}
    for name, v in _EMPTY.items():
        cols[name][:] = v
    return cols


class Population:
    """Preallocated columns, grown geometrically between days, never inside a kernel."""

    def __init__(self, capacity: int):
        capacity = max(int(capacity), 1024)
        self.cols = _columns(capacity)
        self.n = 0                                  # rows in use: last night's live agents, then today's new ones
        self.created = 0                            # agents ever created (the books' total)
        self.retired = np.zeros(N_STATUS, np.int64)  # agents dropped from the store, by final status
        self.bounds = (0, 0)                        # rows [0, n) are [at the border | held in the US | in transit]
        self._packed: Packed | None = None

    @property
    def capacity(self) -> int:
        return len(self.cols["nat"])

    def reserve(self, extra: int) -> None:
        """Make room for `extra` more agents, growing by at least half to keep copies rare."""
        need = self.n + int(extra)
        if need <= self.capacity:
            return
        new = max(need, int(self.capacity * 1.5))
        self._packed = None
        for name, arr in self.cols.items():
            grown = np.zeros(new, dtype=arr.dtype)
            if name in _EMPTY:
                grown[:] = _EMPTY[name]
            grown[: self.n] = arr[: self.n]
            self.cols[name] = grown

    def clear_rows(self, lo: int, hi: int) -> None:
        """Rows [lo, hi) as a new store holds them (the values of columns nobody set)."""
        for name, arr in self.cols.items():
            arr[lo:hi] = _EMPTY.get(name, 0)

    def view(self) -> Agents:
        return Agents(*(self.cols[name] for name, _ in _FIELDS))

    def kernel_view(self) -> Packed:
        """The columns as the kernels take them (`corridor.packed`), packed again only after the store grew."""
        if self._packed is None:
            self._packed = pack(self.view())
        return self._packed

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.cols.values())
