"""Census and books: the day's stocks (by status, place, sector, nationality, caravan), the books of final
statuses checked every day against the rows themselves and against everyone created (no agent is ever
lost), and tomorrow's store: the live agents moved into contiguous rows, the finished ones retired."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..codes import (CROSSING, F_SEEKER, FIRST_SINK, ICE_DETENTION, IN_TRANSIT, N_STATUS, NO_GROUP, PAROLED,
                     STATUS_NAMES, STOP_KINDS, US_CUSTODY, WAITING_BORDER)
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
    """Which part of the store an agent belongs in tomorrow: 0 at the border, 1 held in the US, 2 in transit
    (and regrouping at home), 3 finished."""
    if st >= FIRST_SINK:
        return 3
    if st == WAITING_BORDER or st == CROSSING:
        return 0
    if st == US_CUSTODY or st == ICE_DETENTION:
        return 1
    return 2


@njit(inline="always", cache=True)
def swap_rows(ag, a, b):
    ag.nat[a], ag.nat[b] = ag.nat[b], ag.nat[a]
    ag.status[a], ag.status[b] = ag.status[b], ag.status[a]
    ag.place[a], ag.place[b] = ag.place[b], ag.place[a]
    ag.leg[a], ag.leg[b] = ag.leg[b], ag.leg[a]
    ag.crossing[a], ag.crossing[b] = ag.crossing[b], ag.crossing[a]
    ag.sector[a], ag.sector[b] = ag.sector[b], ag.sector[a]
    ag.timer[a], ag.timer[b] = ag.timer[b], ag.timer[a]
    ag.target[a], ag.target[b] = ag.target[b], ag.target[a]
    ag.attempts[a], ag.attempts[b] = ag.attempts[b], ag.attempts[a]
    ag.flags[a], ag.flags[b] = ag.flags[b], ag.flags[a]
    ag.group[a], ag.group[b] = ag.group[b], ag.group[a]
    ag.since[a], ag.since[b] = ag.since[b], ag.since[a]
    ag.uid[a], ag.uid[b] = ag.uid[b], ag.uid[a]


@njit(nogil=True, cache=True)
def compact(ag, status, n):
    """Tonight's store, in place: rows [at the border | held in the US | in transit | finished], so each
    phase passes tomorrow over the part it acts on, as it stood at the start of the day. A four-way
    partition (Dijkstra's flag): a row moves only if its agent changed part today, so a night costs a
    pass over the statuses and a few swaps. The order of rows within a part changes no result (every
    draw is keyed by the agent's uid, every count is a sum). Returns the ends of the first three parts.
    `status` is `ag.status`, passed alone: the scan reads it three times faster than through `ag`."""
    b0 = 0                 # [0, b0): border
    b1 = 0                 # [b0, b1): US
    j = 0                  # [b1, j): transit; [j, top): not yet seen
    top = n                # [top, n): finished
    while j < top:
        g = part_of(status[j])
        if g == 2:
            j += 1
        elif g == 3:
            top -= 1
            swap_rows(ag, j, top)
        elif g == 1:
            if j != b1:
                swap_rows(ag, j, b1)
            b1 += 1
            j += 1
        else:
            if j != b1:
                swap_rows(ag, j, b1)      # the US part's first agent goes to the end of that part
            if b1 != b0:
                swap_rows(ag, b1, b0)     # and the border agent to the end of the border part
            b0 += 1
            b1 += 1
            j += 1
    return b0, b1, j


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
    STATE = ("sinks",)   # what changes day to day: saved to branch from

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
        over_chunks(census, ag, *day.rows, d + 1 - self.min_days, *rows)
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
        b0, b1, n_live = (int(x) for x in compact(ag, ag.status, pop.n))
        if n_live != int(live.sum()):
            raise ConservationError(f"day {date}: {n_live} rows kept for {int(live.sum())} agents on their way")
        pop.n, pop.bounds = n_live, (b0, b1)
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
