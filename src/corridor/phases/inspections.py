"""Inspections in Mexico: people starting an inspected leg may be detected (by enforcement, contention on
the mode, the Guatemala border block; large cohesive caravans slip through); detentions end in
deportation home, a bus back south, or release to go on."""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng as R
from ..codes import DETAINED_MEXICO, F_INSPECT, GUATEMALA_BORDER, IN_TRANSIT, NO_GROUP, NO_LEG
from ..metrics import Metric
from ..tally import Block, slots
from .common import SHARED, chunk, home, over_chunks

BLOCKS = (
    Block("mexico_detentions", "one", "detained at a Mexican checkpoint"),
    Block("mexico_detentions_nat", "nationality", "detained at a Mexican checkpoint, by nationality"),
    Block("mexico_deportations", "one", "deported home by Mexico at the end of a detention"),
    Block("moved_south", "one", "bused back to the south by Mexico at the end of a detention"),
)
T = slots(SHARED + BLOCKS)
MAX_DETECTION = 0.95


@njit(inline="always", cache=True)
def detection_chance(net, lv, d, e):
    """Chance of detection on leg e today: the checkpoint's base rate scaled by Mexico's levers."""
    p = net.leg_detection[e] * lv.mexico_enforcement[d] * (1.0 + lv.contention[d, net.leg_mode[e]])
    if net.leg_region[e] == GUATEMALA_BORDER:
        p *= 1.0 + 2.0 * lv.guatemala_border_block[d]
    return min(p, MAX_DETECTION)


@njit(nogil=True, cache=True)
def inspections(ag, first, last, net, lv, d, key, group_size, leak, full_size, detention_days, tal, o, c0, c1):
    """Checkpoints: detect people starting an inspected leg; end detentions (deport, bus south, release).

    Large cohesive groups slip through: detection falls by `leak` * min(1, size / full_size).
    """
    n = last - first
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        row = tal[c]
        for i in range(first + lo, first + hi):
            st = ag.status[i]
            if st == IN_TRANSIT and (ag.flags[i] & F_INSPECT):
                ag.flags[i] &= ~F_INSPECT
                e = ag.leg[i]
                p = detection_chance(net, lv, d, e)
                g = ag.group[i]
                if g > NO_GROUP:
                    p *= 1.0 - leak * min(1.0, group_size[g] / full_size)
                if R.uniform(key, R.S_INSPECT, ag.uid[i]) < p:
                    ag.status[i] = DETAINED_MEXICO
                    ag.leg[i] = NO_LEG
                    ag.group[i] = NO_GROUP
                    ag.since[i] = d
                    ag.timer[i] = R.exp_days(detention_days, R.uniform(key, R.S_MXTIMER, ag.uid[i]))
                    row[o[T.mexico_detentions]] += 1
                    row[o[T.mexico_detentions_nat] + ag.nat[i]] += 1
            elif st == DETAINED_MEXICO:
                ag.timer[i] -= 1
                if ag.timer[i] > 0:
                    continue
                nat = ag.nat[i]
                u = R.uniform(key, R.S_MXOUT, ag.uid[i])
                if u < lv.mexico_detention_deport[d, nat]:
                    row[o[T.mexico_deportations]] += 1
                    row[o[T.bad] + nat] += 1
                    home(ag, i, d)
                elif R.uniform(key, R.S_MXSOUTH, ag.uid[i]) < lv.return_south[d]:
                    row[o[T.moved_south]] += 1
                    ag.status[i] = IN_TRANSIT
                    ag.place[i] = net.south_place
                    ag.timer[i] = R.exp_days(net.place_dwell[net.south_place], R.uniform(key, R.S_DWELL, ag.uid[i]))
                    ag.since[i] = d
                else:
                    ag.status[i] = IN_TRANSIT
                    ag.timer[i] = 0
                    ag.since[i] = d


class Inspections:
    """Reads: mexico_enforcement, contention, guatemala_border_block, mexico_detention_deport, return_south(_to);
    yesterday's caravan sizes."""
    name = "inspections"
    BLOCKS = BLOCKS
    STATE = ("group_people",)   # what changes day to day: saved to branch from

    def __init__(self, run):
        self.run = run
        self.group_people = np.zeros(len(run.scenario.caravans) + 1)

    def step(self, day) -> None:
        run, beh = self.run, self.run.scenario.behaviour
        over_chunks(inspections, day.agents, *day.in_transit, run.kernel_net, run.kernel_levers, day.d, day.key, self.group_people,
                    beh.caravan_leakage, beh.caravan_full_size, beh.mexico_detention_days, day.tal,
                    run.offsets[self.name])

    def end_day(self, day) -> None:
        self.group_people = day.census.groups.astype(float) * self.run.scenario.scale

    METRICS = (
        Metric("mexico_detentions", None, "people", "flow", True, "detained at Mexican checkpoints",
               lambda ph, day: day.one("mexico_detentions") * day.scale),
        Metric("mexico_detentions", "nationality", "people", "flow", True, "detained in Mexico, by nationality",
               lambda ph, day: day.block("mexico_detentions_nat") * day.scale),
        Metric("mexico_deportations", None, "people", "flow", True, "deported home by Mexico",
               lambda ph, day: day.one("mexico_deportations") * day.scale),
        Metric("moved_south", None, "people", "flow", True, "bused back to the south by Mexico",
               lambda ph, day: day.one("moved_south") * day.scale),
        Metric("mexico_enforcement", None, "x 2023 level", "level", False, "Mexico's enforcement today",
               lambda ph, day: ph.run.timelines.mexico_enforcement[day.d]),
    )
