"""Removal flights: those in ICE detention wait for a seat on a flight to their country (seats per
nationality shared by lottery); after the longest detention allowed they are released (never under a
suspension of entry)."""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng as R
from ..codes import ICE_DETENTION, RELEASED_US, SUSPENSION
from ..tally import Block, slots
from .common import SHARED, chunk, home, over_chunks, to_sink

BLOCKS: tuple[Block, ...] = ()
T = slots(SHARED + BLOCKS)


@njit(nogil=True, cache=True)
def removals(ag, first, last, d, key, p_flight, max_days, tal, o, c0, c1):
    """ICE detention awaiting a removal flight: seats per nationality by lottery; released after max_days."""
    n = last - first
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        row = tal[c]
        for i in range(first + lo, first + hi):
            if ag.status[i] != ICE_DETENTION:
                continue
            nat = ag.nat[i]
            if R.uniform(key, R.S_FLIGHT, ag.uid[i]) < p_flight[nat]:
                row[o[T.removals]] += 1
                row[o[T.bad] + nat] += 1
                home(ag, i, d)
            elif d - ag.since[i] >= max_days:
                row[o[T.releases]] += 1
                row[o[T.good] + nat] += 1
                to_sink(ag, i, RELEASED_US, d, row, o)


class Removals:
    """Reads: removal_flights_per_day, seats_per_flight; yesterday's ICE queue by nationality."""
    name = "removals"
    BLOCKS = BLOCKS
    STATE = ("ice",)   # what changes day to day: saved to branch from
    METRICS = ()

    def __init__(self, run):
        self.run = run
        self.ice = np.zeros(len(run.world.nat_names))

    def step(self, day) -> None:
        run, sc = self.run, self.run.scenario
        queue = self.ice + day.chunk_block("ice_in")
        seats = run.timelines.removal_flights_per_day[day.d] * sc.policies.seats_per_flight / sc.scale
        p_flight = np.minimum(1.0, seats / np.maximum(queue, 1.0))
        max_days = int(sc.behaviour.max_ice_detention_days) if run.timelines.regime[day.d] != SUSPENSION else 1 << 40
        over_chunks(removals, day.agents, *day.held_us, day.d, day.key, p_flight, max_days, day.tal, run.offsets[self.name])

    def end_day(self, day) -> None:
        self.ice = day.census.ice.astype(float)
