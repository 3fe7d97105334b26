"""The day's tally: counts of events in blocks that the phases declare, one row per chunk of agents.

A phase declares its blocks (`Block(name, size, meaning)`); the layout lays every block out once, one
after another, in a row of integers. A phase's kernels index an offsets array `o` built for that phase:
the shared blocks first (`phases.common.SHARED`, at the same slots in every phase), then its own, each
at the slot `slots(...)` names. The slots are a namedtuple, which numba reads as constants. Counts are
integers summed over chunks, so results do not depend on the number of threads.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from .codes import COUNTS_AS, N_SINK

SIZES = ("one", "sector", "nationality", "leg", "place", "sink", "counted", "counted_nationality")


@dataclass(frozen=True)
class Block:
    """A block of the tally row: `size` is a domain whose length the world gives (one, sector, ...)."""
    name: str
    size: str
    meaning: str

    def __post_init__(self):
        if self.size not in SIZES:
            raise ValueError(f"tally block {self.name!r}: size {self.size!r} is not one of {SIZES}")


def slots(blocks: tuple[Block, ...]):
    """Named slot numbers of `blocks` in their order (a namedtuple: numba folds `T.name` to a constant)."""
    Slots = namedtuple("Slots", [b.name for b in blocks])
    return Slots(*range(len(blocks)))


def domain_sizes(n_sector: int, n_nat: int, n_leg: int, n_place: int) -> dict[str, int]:
    return {"one": 1, "sector": n_sector, "nationality": n_nat, "leg": n_leg, "place": n_place, "sink": N_SINK,
            "counted": len(COUNTS_AS), "counted_nationality": len(COUNTS_AS) * n_nat}


class Layout:
    """Where each block lies in a tally row; `offsets(blocks)` for a phase, `read(row, name)` by name."""

    def __init__(self, blocks: list[Block], sizes: dict[str, int]):
        names = [b.name for b in blocks]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"tally blocks declared twice: {', '.join(dup)}")
        self.start: dict[str, int] = {}
        self.size: dict[str, int] = {}
        pos = 0
        for b in blocks:
            self.start[b.name] = pos
            self.size[b.name] = sizes[b.size]
            pos += sizes[b.size]
        self.width = pos

    def offsets(self, blocks: tuple[Block, ...]) -> np.ndarray:
        """The `o` array a phase's kernels index with its slots."""
        return np.array([self.start[b.name] for b in blocks], np.int64)

    def read(self, row: np.ndarray, name: str) -> np.ndarray:
        """A block of a (summed) tally row, by name."""
        s = self.start[name]
        return row[s: s + self.size[name]]

    def one(self, row: np.ndarray, name: str):
        """A block of size one, as its value."""
        return row[self.start[name]]
