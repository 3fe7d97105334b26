"""Border Patrol custody as a queue: people wait `processing_days`, then share the sector's processing capacity
(officers of closed crossings join it) by lottery; once processed they stay for a time that depends on their
outcome (a Title 42 expulsion leaves at once, a release with a notice to appear or a removal after some days,
a transfer to ICE when ICE has a bed); above holding capacity some are released unprocessed and those awaiting
release leave at once. So the stock follows arrivals x time in custody, and swells when throughput falls short."""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng as R
from ..codes import OUT_EXPELLED, OUT_ICE, OUT_RELEASE, SUSPENSION, US_CUSTODY
from ..metrics import Metric
from ..tally import Block, slots
from .common import SHARED, chunk, over_chunks
from .outcomes import apply_outcome, outcome

BLOCKS = (
    Block("processed", "one", "processed by Border Patrol"),
    Block("overflow_releases", "one", "released because custody was over holding capacity (unprocessed, or "
          "processed for release and sent out early)"),
    Block("awaiting_ice", "one", "processed for ICE and still in Border Patrol custody tonight"),
)
T = slots(SHARED + BLOCKS)
UNPROCESSED = 0             # ag.timer in custody: 0 before processing, 1 + the outcome after


@njit(nogil=True, cache=True)
def custody(ag, first, last, net, lv, d, key, p_process, p_overflow, p_leave, p_accept, restricted_factor,
            min_days, tal, o, c0, c1):
    """Border Patrol custody: processing shared by lottery, then a stay by outcome (`p_leave[outcome]` a day);
    above holding capacity some are released unprocessed and those awaiting release leave."""
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
            if ag.timer[i] > UNPROCESSED:                  # processed: waiting to leave by their outcome's path
                out = ag.timer[i] - 1
                u = R.uniform(key, R.S_HOLD, ag.uid[i])
                if u < p_leave[out]:
                    apply_outcome(ag, i, out, city, d, nat, row, o)
                elif out == OUT_RELEASE and R.uniform(key, R.S_OVERFLOW, ag.uid[i]) < p_overflow[s]:
                    row[o[T.overflow_releases]] += 1                # sent out early: custody over capacity
                    apply_outcome(ag, i, out, city, d, nat, row, o)
                elif out == OUT_ICE:
                    row[o[T.awaiting_ice]] += 1
                continue
            if d - ag.since[i] < min_days:
                continue                                   # still being processed
            if R.uniform(key, R.S_PROCESS, ag.uid[i]) < p_process[s]:
                row[o[T.processed]] += 1
                out = outcome(net, lv, d, nat, R.uniform(key, R.S_OUTCOME, ag.uid[i]),
                              R.uniform(key, R.S_ACCEPT, ag.uid[i]), p_accept, restricted_factor, row, o)
                if out == OUT_EXPELLED:
                    apply_outcome(ag, i, out, city, d, nat, row, o)
                else:
                    ag.timer[i] = out + 1
                    if out == OUT_ICE:
                        row[o[T.awaiting_ice]] += 1
            elif R.uniform(key, R.S_OVERFLOW, ag.uid[i]) < p_overflow[s]:
                row[o[T.overflow_releases]] += 1
                apply_outcome(ag, i, OUT_RELEASE, city, d, nat, row, o)


def daily_chance(mean_days: float) -> float:
    """The daily chance of leaving that gives a wait of `mean_days` on average (at least a day)."""
    return 1.0 if mean_days <= 1.0 else 1.0 / mean_days


class Custody:
    """Reads: processing_capacity_factor, holding_capacity_factor, crossings_closed (redeployed officers),
    ice_beds, the outcome levers; yesterday's custody by sector, those ready for processing, those awaiting
    ICE and ICE's stock; `day.p_accept`. A stay after processing is `custody_days_release` (release),
    `custody_days_removal` (removal over land, return to Mexico) or `ice_transfer_days` times the share of
    ICE beds free for those waiting (transfer)."""
    name = "custody"
    BLOCKS = BLOCKS
    STATE = ("custody", "ready", "capacity", "holding", "awaiting_ice", "ice")   # saved to branch from

    def __init__(self, run):
        self.run = run
        w, n_sec = run.world, len(run.world.sector_names)
        beh = run.scenario.behaviour
        self.custody = np.zeros(n_sec)
        self.ready = np.zeros(n_sec)
        self.awaiting_ice, self.ice = 0.0, 0.0
        self.min_days = int(round(beh.processing_days))
        self.sector_crossings = [np.flatnonzero(run.net.crossing_sector == s) for s in range(n_sec)]
        self.capacity = np.zeros(n_sec)
        self.holding = w.sector_holding / run.scenario.scale
        # outcome codes: release, return to Mexico, ICE, removal over land, expulsion (leaves when processed)
        self.p_leave = np.array([daily_chance(beh.custody_days_release), daily_chance(beh.custody_days_removal),
                                 0.0, daily_chance(beh.custody_days_removal), 1.0])
        self.p_transfer = daily_chance(beh.ice_transfer_days)

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
        free_beds = max(lv.ice_beds[d] / scale - self.ice, 0.0)
        p_leave = self.p_leave.copy()
        p_leave[OUT_ICE] = self.p_transfer * min(1.0, free_beds / max(self.awaiting_ice, 1.0))
        over_chunks(custody, day.agents, *day.held_us, run.kernel_net, run.kernel_levers, d, day.key, p_process, p_overflow, p_leave,
                    day.p_accept, beh.restricted_release_factor, self.min_days, day.tal, run.offsets[self.name])
        self.capacity, self.holding = capacity, holding

    def end_day(self, day) -> None:
        self.custody = day.census.custody.astype(float)
        self.ready = day.census.ready.astype(float)
        self.awaiting_ice = float(day.one("awaiting_ice"))
        self.ice = float(day.census.ice.sum())

    METRICS = (
        Metric("processed_us", None, "people", "flow", True, "processed by Border Patrol",
               lambda ph, day: day.one("processed") * day.scale),
        Metric("overflow_releases", None, "people", "flow", True, "released because custody was over holding capacity",
               lambda ph, day: day.one("overflow_releases") * day.scale),
        Metric("custody_over_capacity", None, "people", "stock", True, "people in custody above holding capacity",
               lambda ph, day: float(np.maximum(day.census.custody * day.scale - ph.holding * day.scale, 0).sum())),
        Metric("us_custody_population", None, "people", "stock", True,
               "people in Border Patrol custody (ports hold no one overnight in the model)",
               lambda ph, day: float((day.census.custody * day.scale).sum())),
        Metric("custody_awaiting_ice", None, "people", "stock", True, "processed for ICE, still in Border Patrol custody",
               lambda ph, day: day.one("awaiting_ice") * day.scale),
        Metric("custody_population", "sector", "people", "stock", True, "people in Border Patrol custody by sector",
               lambda ph, day: day.census.custody * day.scale),
        Metric("holding_capacity", "sector", "people", "level", True, "holding capacity by sector",
               lambda ph, day: ph.holding * day.scale),
        Metric("processing_capacity", "sector", "people/day", "level", True, "processing capacity by sector",
               lambda ph, day: ph.capacity * day.scale),
    )
