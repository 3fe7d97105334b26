"""Waiting in Mexican border cities: new arrivals choose between waiting for a CBP One appointment and
crossing irregularly; slots are shared by lottery among those who wait; others cross (at a port now and
then, mostly between ports), or give up. Closed crossings take no one."""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng as R
from ..codes import CROSSING, F_APPT, F_DECIDED, F_SEEKER, GAVE_UP, PORT, SUSPENSION, WAITING_BORDER
from ..metrics import Metric
from ..tally import Block, slots
from .common import SHARED, chunk, over_chunks, to_sink

BLOCKS = (
    Block("seekers_in", "place", "new arrivals who wait for an appointment, by border city"),
    Block("gave_up_border", "one", "gave up waiting at the border (settled in Mexico or left)"),
)
T = slots(SHARED + BLOCKS)


@njit(nogil=True, cache=True)
def border_arrivals(ag, first, last, lv, d, key, seekers_share, tal, o, c0, c1):
    """New arrivals at the border choose: wait for a CBP One appointment, or cross irregularly.

    Counted per city before the lottery for slots, so today's newcomers compete with the queue.
    """
    if lv.appointments_per_day[d] <= 0 or lv.regime[d] == SUSPENSION:
        return
    n = last - first
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        row = tal[c]
        for i in range(first + lo, first + hi):
            if ag.status[i] != WAITING_BORDER or (ag.flags[i] & F_DECIDED):
                continue
            ag.flags[i] |= F_DECIDED
            if R.uniform(key, R.S_SEEK, ag.uid[i]) < seekers_share:
                ag.flags[i] |= F_SEEKER
                row[o[T.seekers_in] + ag.place[i]] += 1


@njit(nogil=True, cache=True)
def border(ag, first, last, net, lv, d, key, p_slot, hazard, patience, port_share, give_up, tal, o, c0, c1):
    """People waiting in Mexican border cities: wait for an appointment, cross irregularly, or give up.

    One draw per person per day, split into exclusive outcomes (give up | slot or cross | wait); the
    rescaled remainder of the same draw picks the crossing, so every outcome keeps its odds."""
    appointments_exist = lv.appointments_per_day[d] > 0 and lv.regime[d] != SUSPENSION   # none may apply
    n = last - first
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        row = tal[c]
        for i in range(first + lo, first + hi):
            if ag.status[i] != WAITING_BORDER:
                continue
            city = ag.place[i]
            u = R.uniform(key, R.S_CROSS, ag.uid[i])
            gu = give_up[ag.nat[i]]
            if u < gu:
                to_sink(ag, i, GAVE_UP, d, row, o)
                row[o[T.gave_up_border]] += 1
                continue
            v = (u - gu) / (1.0 - gu)
            if ag.flags[i] & F_SEEKER:
                if appointments_exist and v < p_slot[city]:
                    port = pick_port(net, lv, d, city, v / p_slot[city], True)
                    if port >= 0:
                        ag.status[i] = CROSSING
                        ag.crossing[i] = port
                        ag.flags[i] |= F_APPT
                        continue
                if d - ag.since[i] > patience or not appointments_exist:
                    ag.flags[i] &= ~F_SEEKER
                continue
            if v >= hazard:
                continue
            w = v / hazard
            crossing = -1
            if w < port_share:
                crossing = pick_port(net, lv, d, city, w / port_share, False)
            if crossing < 0:
                bp = net.city_bp[city]
                if bp >= 0 and not lv.crossings_closed[d, bp]:
                    crossing = bp
                else:
                    crossing = pick_port(net, lv, d, city, w, False)
            if crossing >= 0:
                ag.status[i] = CROSSING
                ag.crossing[i] = crossing


@njit(cache=True)
def pick_port(net, lv, d, city, u, appointment):
    """An open port of the city (weighted by appointment share when booking; else uniform)."""
    lo = net.city_port_start[city]
    hi = net.city_port_start[city + 1]
    total = 0.0
    for k in range(lo, hi):
        x = net.city_ports[k]
        if not lv.crossings_closed[d, x] and net.crossing_kind[x] == PORT:
            total += net.crossing_appt[x] if appointment else 1.0
    if total <= 0.0:
        return -1
    acc = 0.0
    last = -1
    for k in range(lo, hi):
        x = net.city_ports[k]
        if not lv.crossings_closed[d, x] and net.crossing_kind[x] == PORT:
            w = net.crossing_appt[x] if appointment else 1.0
            if w > 0:
                acc += w
                last = x
                if u * total < acc:
                    return x
    return last


class Border:
    """Reads: appointments_per_day, crossings_closed; yesterday's queue of appointment seekers; `day.quit_nat`."""
    name = "border"
    BLOCKS = BLOCKS
    STATE = ("seekers",)   # what changes day to day: saved to branch from

    def __init__(self, run):
        self.run = run
        net = run.net
        self.seekers = np.zeros(len(net.place_kind))
        self.ports = net.crossing_kind == PORT

    def step(self, day) -> None:
        run, d = self.run, day.d
        net, lv, beh, scale = run.net, run.timelines, run.scenario.behaviour, run.scenario.scale
        closed = lv.crossings_closed[d]
        slots_ = np.zeros(len(net.place_kind))
        open_ports = (~closed) & self.ports
        np.add.at(slots_, net.crossing_city[open_ports], net.crossing_appt[open_ports] * lv.appointments_per_day[d] / scale)
        o = run.offsets[self.name]
        over_chunks(border_arrivals, day.agents, *day.at_border, run.kernel_levers, d, day.key, beh.appointment_seekers, day.tal, o)
        new_seekers = day.chunk_block("seekers_in")
        p_slot = np.minimum(1.0, slots_ / np.maximum(self.seekers + new_seekers, 1.0))
        over_chunks(border, day.agents, *day.at_border, run.kernel_net, run.kernel_levers, d, day.key, p_slot, beh.crossing_hazard, beh.appointment_patience_days,
               beh.port_presentation_share, beh.give_up_hazard + day.quit_nat, day.tal, o)

    def end_day(self, day) -> None:
        self.seekers = day.census.seekers.astype(float)

    METRICS = (
        Metric("gave_up_border", None, "people", "flow", True, "gave up waiting at the border",
               lambda ph, day: day.one("gave_up_border") * day.scale),
        Metric("waiting_population", "border_city", "people", "stock", True, "people waiting in each border city",
               lambda ph, day: day.census.waiting[ph.run.world.border_cities] * day.scale),
        Metric("crossing_open", "crossing", "1 = open", "level", False, "whether each crossing is open",
               lambda ph, day: (~ph.run.timelines.crossings_closed[day.d]).astype(float)),
        Metric("trade_blocked_usd", None, "USD/day", "flow", False, "trade through the crossings closed today",
               lambda ph, day: float(ph.run.world.crossing_trade[ph.run.timelines.crossings_closed[day.d]].sum())),
    )
