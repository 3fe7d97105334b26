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
                if ag.since[i] <= ready_day and ag.timer[i] == 0:     # not yet processed
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
def _swap(col, a, b):
    x = col[a]
    col[a] = col[b]
    col[b] = x


@njit(cache=True)
def swap_rows(ag, a, b):
    """Two agents trade rows, each column taken from `ag` once."""
    _swap(ag.nat, a, b)
    _swap(ag.status, a, b)
    _swap(ag.place, a, b)
    _swap(ag.leg, a, b)
    _swap(ag.crossing, a, b)
    _swap(ag.sector, a, b)
    _swap(ag.timer, a, b)
    _swap(ag.target, a, b)
    _swap(ag.attempts, a, b)
    _swap(ag.flags, a, b)
    _swap(ag.group, a, b)
    _swap(ag.since, a, b)
    _swap(ag.uid, a, b)


@njit(nogil=True, cache=True)
def compact(ag, status, n):
    """Tonight's store, in place: rows [at the border | held in the US | in transit | finished], so each
    phase passes tomorrow over the part it acts on, as it stood at the start of the day. The parts' sizes
    are counted first; then every row outside its part is swapped straight into a row of its own part that
    holds an outsider (an in-place American flag sort), so a row moves only if its agent changed part
    today and a night costs two passes over the statuses and a swap per such agent. The order of rows
    within a part changes no result (every draw is keyed by the agent's uid, every count is a sum).
    Returns the ends of the first three parts. `status` is the status column, passed alone: the scans read it
    faster than through `ag`."""
    size = np.zeros(4, np.int64)
    for i in range(n):
        size[part_of(status[i])] += 1
    end = np.cumsum(size)
    nxt = end - size                    # in each part, the first row not yet known to hold its own
    for r in range(4):
        i = nxt[r]
        while i < end[r]:
            g = part_of(status[i])
            if g == r:
                i += 1
                continue
            while part_of(status[nxt[g]]) == g:
                nxt[g] += 1             # an outsider is there: part g has room for one more of its own
            swap_rows(ag, i, nxt[g])
            nxt[g] += 1
        nxt[r] = end[r]
    return end[0], end[1], end[2]


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
        b0, b1, n_live = (int(x) for x in compact(ag, pop.cols["status"], pop.n))
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
