"""Census and books: the day's stocks (by status, place, sector, nationality, caravan), the books of final
statuses checked every day against the rows themselves and against everyone created (no agent is ever
lost), and tomorrow's store: the live agents moved into contiguous rows, the finished ones retired."""
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


@njit(nogil=True, cache=True)
def census(ag, first, last, ready_day, status, place, waiting, seekers, custody_s, ready, ice, groups, c0, c1):
    """Stocks at the end of the day, one row per chunk: status (today's finishers too; a status that is
    none of the codes in the last column), place, custody by sector (and those ready for processing on
    `ready_day`), ICE queue, seekers, groups."""
    n = last - first
    n_group = groups.shape[1]
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        for i in range(first + lo, first + hi):
            st = ag.status[i]
            if st < 0 or st >= N_STATUS:
                status[c, N_STATUS] += 1
                continue
            status[c, st] += 1
            if st >= FIRST_SINK:
                continue                   # finished today: retired tonight
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


PART_OF = np.array([part_of.py_func(st) for st in range(FIRST_SINK)])   # the same, as a table for NumPy


@njit(nogil=True, cache=True)
def compact(ag, first, last, into, dest, c0, c1):
    """Tomorrow's store: each live agent of chunk c copied into `into` at the next row of its part
    (dest[c, part]: where chunk c's agents of that part begin), so the rows come in the order of the
    active list, partitioned [border | US | transit] so each phase scans only the agents it can act on."""
    n = last - first
    pos = np.empty(3, np.int64)
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        pos[:] = dest[c]
        for i in range(first + lo, first + hi):
            st = ag.status[i]
            if st >= FIRST_SINK:
                continue
            g = part_of(st)
            k = pos[g]
            pos[g] += 1
            into.nat[k] = ag.nat[i]
            into.status[k] = st
            into.place[k] = ag.place[i]
            into.leg[k] = ag.leg[i]
            into.crossing[k] = ag.crossing[i]
            into.sector[k] = ag.sector[i]
            into.timer[k] = ag.timer[i]
            into.target[k] = ag.target[i]
            into.attempts[k] = ag.attempts[i]
            into.flags[k] = ag.flags[i]
            into.group[k] = ag.group[i]
            into.since[k] = ag.since[i]
            into.uid[k] = ag.uid[i]


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
                for k in (N_STATUS + 1, n_place, n_place, n_place, n_sector, n_sector, n_nat, n_group)]
        over_chunks(census, ag, *day.active, d + 1 - self.min_days, *rows)
        status_rows = rows[0]
        place, waiting, seekers, custody_s, ready_s, ice, groups = (r.sum(axis=0) for r in rows[1:])
        day.tally = day.tal.sum(axis=0)
        self.sinks[PAROLED] += day.paroled
        self.sinks[FIRST_SINK:] += day.block("sink")
        seen = status_rows.sum(axis=0)               # from the rows: everyone in the store today, by status
        live = seen[:N_STATUS].copy()
        live[FIRST_SINK:] = 0
        status = live + self.sinks
        retired = pop.retired + seen[:N_STATUS] - live
        date = run.world.dates[d]
        if int(status.sum()) != pop.created or seen[N_STATUS]:
            raise ConservationError(
                f"day {date}: {pop.created} agents created but {int(status.sum())} found across statuses "
                f"({dict(zip(STATUS_NAMES, status.tolist()))}, {int(seen[N_STATUS])} in no status); the run is stopped")
        if not np.array_equal(retired[FIRST_SINK:], self.sinks[FIRST_SINK:]):
            raise ConservationError(f"day {date}: books of final statuses {self.sinks[FIRST_SINK:].tolist()} differ "
                                    f"from the agents' rows {retired[FIRST_SINK:].tolist()}; the run is stopped")
        pop.retired = retired
        # tomorrow's rows, in today's order: chunk c's agents of each part after those of the chunks before it
        parts = np.stack([status_rows[:, :FIRST_SINK][:, PART_OF == g].sum(axis=1) for g in range(3)], axis=1)
        totals = parts.sum(axis=0)
        dest = np.cumsum(parts, axis=0) - parts + np.array([0, totals[0], totals[0] + totals[1]])
        over_chunks(compact, ag, *day.active, pop.spare_view(), dest)
        pop.swap(int(totals.sum()), (int(totals[0]), int(totals[0] + totals[1])))
        day.census = Stocks(status, place, waiting, seekers, custody_s, ready_s, ice, groups)

    def end_day(self, day) -> None:
        pass

    METRICS = (
        Metric("agents_created", None, "agents", "stock", False, "agents created so far (the books' total)",
               lambda ph, day: ph.run.pop.created),
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
