"""Border Patrol custody: processing capacity per sector (officers of closed crossings join it) shared by
lottery among those ready; above holding capacity some are released unprocessed; the processed get their
legal outcome."""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng as R
from ..codes import OUT_RELEASE, SUSPENSION, US_CUSTODY
from ..metrics import Metric
from ..tally import Block, slots
from .common import SHARED, chunk, over_chunks
from .outcomes import apply_outcome, outcome

BLOCKS = (
    Block("processed", "one", "processed by Border Patrol"),
    Block("overflow_releases", "one", "released unprocessed because custody was over holding capacity"),
)
T = slots(SHARED + BLOCKS)


@njit(nogil=True, cache=True)
def custody(ag, first, last, net, lv, d, key, p_process, p_overflow, p_accept, restricted_factor, min_days, tal, o, c0, c1):
    """Border Patrol custody: processing shared by lottery; above holding capacity some are released unprocessed."""
    n = last - first
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        row = tal[c]
        for i in range(first + lo, first + hi):
            if ag.status[i] != US_CUSTODY:
                continue
            s = ag.sector[i]
            nat = ag.nat[i]
            city = ag.place[i]
            if d - ag.since[i] < min_days:
                continue                                   # still being processed
            if R.uniform(key, R.S_PROCESS, ag.uid[i]) < p_process[s]:
                row[o[T.processed]] += 1
                out = outcome(net, lv, d, nat, R.uniform(key, R.S_OUTCOME, ag.uid[i]),
                              R.uniform(key, R.S_ACCEPT, ag.uid[i]), p_accept, restricted_factor, row, o)
                apply_outcome(ag, i, out, city, d, nat, row, o)
            elif R.uniform(key, R.S_OVERFLOW, ag.uid[i]) < p_overflow[s]:
                row[o[T.overflow_releases]] += 1
                apply_outcome(ag, i, OUT_RELEASE, city, d, nat, row, o)


class Custody:
    """Reads: processing_capacity_factor, holding_capacity_factor, crossings_closed (redeployed officers), the
    outcome levers; yesterday's custody by sector and those ready for processing; `day.p_accept`."""
    name = "custody"
    BLOCKS = BLOCKS
    STATE = ("custody", "ready", "capacity", "holding")   # what changes day to day: saved to branch from

    def __init__(self, run):
        self.run = run
        w, n_sec = run.world, len(run.world.sector_names)
        self.custody = np.zeros(n_sec)
        self.ready = np.zeros(n_sec)
        self.min_days = int(round(run.scenario.behaviour.processing_days))
        self.sector_crossings = [np.flatnonzero(run.net.crossing_sector == s) for s in range(n_sec)]
        self.capacity = np.zeros(n_sec)
        self.holding = w.sector_holding / run.scenario.scale

    def step(self, day) -> None:
        run, d = self.run, day.d
        w, lv, beh, scale = run.world, run.timelines, run.scenario.behaviour, run.scenario.scale
        arrived = day.chunk_block("custody_in")
        in_custody = self.custody + arrived
        queue = self.ready + (arrived if self.min_days == 0 else 0.0)
        closed = lv.crossings_closed[d]
        redeploy = np.array([w.crossing_redeploy[ix][closed[ix]].sum() for ix in self.sector_crossings])
        capacity = (w.sector_processing * lv.processing_capacity_factor[d] + redeploy) / scale
        holding = w.sector_holding * lv.holding_capacity_factor[d] / scale
        p_process = np.minimum(1.0, capacity / np.maximum(queue, 1.0))
        remaining = in_custody - np.minimum(queue, capacity)
        p_overflow = beh.overflow_release * np.maximum(remaining - holding, 0.0) / np.maximum(remaining, 1.0)
        if lv.regime[d] == SUSPENSION:
            p_overflow = np.zeros_like(p_overflow)       # a suspension of entry releases nobody, however full
        over_chunks(custody, day.agents, *day.held_us, run.net, lv, d, day.key, p_process, p_overflow, day.p_accept,
                beh.restricted_release_factor, self.min_days, day.tal, run.offsets[self.name])
        self.capacity, self.holding = capacity, holding

    def end_day(self, day) -> None:
        self.custody = day.census.custody.astype(float)
        self.ready = day.census.ready.astype(float)

    METRICS = (
        Metric("processed_us", None, "people", "flow", True, "processed by Border Patrol",
               lambda ph, day: day.one("processed") * day.scale),
        Metric("overflow_releases", None, "people", "flow", True, "released unprocessed (custody over capacity)",
               lambda ph, day: day.one("overflow_releases") * day.scale),
        Metric("custody_over_capacity", None, "people", "stock", True, "people in custody above holding capacity",
               lambda ph, day: float(np.maximum(day.census.custody * day.scale - ph.holding * day.scale, 0).sum())),
        Metric("us_custody_population", None, "people", "stock", True, "people in Border Patrol custody",
               lambda ph, day: float((day.census.custody * day.scale).sum())),
        Metric("custody_population", "sector", "people", "stock", True, "people in Border Patrol custody by sector",
               lambda ph, day: day.census.custody * day.scale),
        Metric("holding_capacity", "sector", "people", "level", True, "holding capacity by sector",
               lambda ph, day: ph.holding * day.scale),
        Metric("processing_capacity", "sector", "people/day", "level", True, "processing capacity by sector",
               lambda ph, day: ph.capacity * day.scale),
    )
