"""Census and books: the day's stocks (by status, place, sector, nationality, caravan), the books of final
statuses checked against everyone created (no agent is ever lost), and tomorrow's active list."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..codes import (CROSSING, F_SEEKER, FIRST_SINK, ICE_DETENTION, IN_TRANSIT, N_STATUS, NO_GROUP, PAROLED,
                     PART_BORDER, PART_TRANSIT, PART_US, STATUS_NAMES, STOP_KINDS, US_CUSTODY, WAITING_BORDER)
from ..errors import ConservationError
from ..metrics import Metric
from ..tally import Block
from .common import N_CHUNKS, chunk, over_chunks

BLOCKS: tuple[Block, ...] = ()
AUDIT_EVERY = 91  # days between full scans of every agent ever created


@njit(nogil=True, cache=True)
def census(ag, active, ready_day, status, place, waiting, seekers, custody_s, ready, ice, groups, c0, c1):
    """Stocks at the end of the day, one row per chunk: status, place, custody by sector (and those ready
    for processing on `ready_day`), ICE queue, seekers, groups."""
    n = active.shape[0]
    n_group = groups.shape[1]
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        for j in range(lo, hi):
            i = active[j]
            st = ag.status[i]
            if st >= FIRST_SINK:
                continue                   # finished today: counted in the sink books
            status[c, st] += 1
            if st == IN_TRANSIT and ag.leg[i] < 0:
                place[c, ag.place[i]] += 1
            elif st == WAITING_BORDER:
                place[c, ag.place[i]] += 1
                waiting[c, ag.place[i]] += 1
                if ag.flags[i] & F_SEEKER:
                    seekers[c, ag.place[i]] += 1
            elif st == US_CUSTODY:
                custody_s[c, ag.sector[i]] += 1
                if ag.since[i] <= ready_day:
                    ready[c, ag.sector[i]] += 1
            elif st == ICE_DETENTION:
                ice[c, ag.nat[i]] += 1
            g = ag.group[i]
            if g > NO_GROUP and g < n_group:
                groups[c, g] += 1


@njit(inline="always", cache=True)
def part_of(st):
    """Which part of the active list an agent belongs in (codes.PART_*)."""
    if st == WAITING_BORDER or st == CROSSING:
        return PART_BORDER
    if st == US_CUSTODY or st == ICE_DETENTION:
        return PART_US
    return PART_TRANSIT


@njit(cache=True)
def compact(ag, active):
    """Tomorrow's active list, finished agents dropped, partitioned [border | US | transit] so each
    phase scans only the agents it can act on. Returns the list and the two partition bounds."""
    counts = np.zeros(3, np.int64)
    for j in range(active.shape[0]):
        st = ag.status[active[j]]
        if st < FIRST_SINK:
            counts[part_of(st)] += 1
    pos = np.array([0, counts[0], counts[0] + counts[1]], np.int64)
    out = np.empty(counts.sum(), np.int64)
    for j in range(active.shape[0]):
        i = active[j]
        st = ag.status[i]
        if st < FIRST_SINK:
            g = part_of(st)
            out[pos[g]] = i
            pos[g] += 1
    return out, counts[0], counts[0] + counts[1]


@dataclass
class Stocks:
    """The end-of-day census (agents, not people): what phases read tomorrow and metrics record today."""
    status: np.ndarray       # every status, the final ones from the books
    place: np.ndarray
    waiting: np.ndarray
    seekers: np.ndarray
    custody: np.ndarray
    ready: np.ndarray
    ice: np.ndarray
    groups: np.ndarray


class Census:
    """Reads: the agents. Keeps the books of final statuses; stops the run if anyone is missing from them."""
    name = "census"
    BLOCKS = BLOCKS

    def __init__(self, run):
        self.run = run
        w = run.world
        self.sinks = np.zeros(N_STATUS, np.int64)
        self.sizes = (len(w.place_ids), len(w.sector_names), len(w.nat_names), len(run.scenario.caravans) + 1)
        self.min_days = int(round(run.scenario.behaviour.processing_days))
        mexican = np.array([p.country == "MX" for p in run.scenario.places])
        # people stopped in Mexico (transit hubs, checkpoint towns, border cities): "stranded"
        self.mexican_stops = np.isin(run.net.place_kind, STOP_KINDS) & mexican

    def step(self, day) -> None:
        run, d, pop = self.run, day.d, self.run.pop
        ag = day.agents
        n_place, n_sector, n_nat, n_group = self.sizes
        rows = [np.zeros((N_CHUNKS, k), np.int64)
                for k in (N_STATUS, n_place, n_place, n_place, n_sector, n_sector, n_nat, n_group)]
        over_chunks(census, ag, day.active, d + 1 - self.min_days, *rows)
        status, place, waiting, seekers, custody_s, ready_s, ice, groups = (r.sum(axis=0) for r in rows)
        day.tally = day.tal.sum(axis=0)
        self.sinks[PAROLED] += day.paroled
        self.sinks[FIRST_SINK:] += day.block("sink")
        status = status + self.sinks
        date = run.world.dates[d]
        if int(status.sum()) != pop.n:
            raise ConservationError(
                f"day {date}: {pop.n} agents created but {int(status.sum())} found across statuses "
                f"({dict(zip(STATUS_NAMES, status.tolist()))}); the run is stopped")
        if d % AUDIT_EVERY == 0 or d == run.world.n_days - 1:
            full = pop.status_counts()
            if not np.array_equal(full, status):
                raise ConservationError(f"day {date}: books {status.tolist()} differ from a full scan {full.tolist()}")
        pop.active, b0, b1 = compact(ag, day.active)
        pop.bounds = (int(b0), int(b1))
        day.census = Stocks(status, place, waiting, seekers, custody_s, ready_s, ice, groups)

    def end_day(self, day) -> None:
        pass

    METRICS = (
        Metric("agents_created", None, "agents", "stock", False, "agents created so far (the books' total)",
               lambda ph, day: ph.run.pop.n),
        Metric("stranded_mexico", None, "people", "stock", True,
               "people stopped in Mexico (transit hubs, checkpoint towns, border cities)",
               lambda ph, day: float(day.census.place[ph.mexican_stops].sum()) * day.scale),
        Metric("mexico_personnel", None, "people", "level", False, "Mexico's military and National Guard deployed",
               lambda ph, day: ph.run.timelines.mexico_personnel[day.d]),
        Metric("place_population", "place", "people", "stock", True, "people stopped at each place",
               lambda ph, day: day.census.place * day.scale),
        Metric("population", "status", "agents", "stock", False,
               "agents in each status (their sum is agents_created every day)",
               lambda ph, day: day.census.status),
    )
