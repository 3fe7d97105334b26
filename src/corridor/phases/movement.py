"""Movement and route choice: travel along legs, dwell at places, and choose the next leg toward the
target border city — a logit over the legs that lead closer (days, cost, detection risk, the chance of a
seat), computed once a day for everyone (`route_table`). Contention and the Guatemala border block cut
seats; visas close flights; Panama may fly home some of those who have just crossed the Darién; bad
news makes some stop where they stand."""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng as R
from ..codes import (COUNT_DARIEN, COUNTS_AS, F_INSPECT, FOOT, GAVE_UP, GUATEMALA_BORDER, IN_TRANSIT, N_VARIANTS, NO_GROUP,
                     NO_LEG, NOT_COUNTED, REGROUPING, V_CARAVAN, V_INSPECTED, V_NEEDS_VISA, WAITING_BORDER)
from ..metrics import Metric
from ..tally import Block, slots
from .common import SHARED, chunk, draw_target, group_key, home, origin_of, over_chunks, to_sink
from .inspections import detection_chance

BLOCKS = (
    Block("leg_flow", "leg", "people starting each leg today"),
    Block("leg_demand", "leg", "people who wanted to start each leg today (seats are shared by lottery tomorrow)"),
    Block("counted", "counted", "starts of legs that count as a recorded series (leg.counts_as)"),
    Block("counted_nat", "counted_nationality", "the same, by nationality"),
    Block("gave_up_en_route", "one", "stopped on the way after bad news from the border"),
    Block("panama_returns", "one", "flown home by Panama after crossing the Darién"),
)
T = slots(SHARED + BLOCKS)
TEMPERATURE_DAYS = 3.0      # the logit's scale: utilities are in days of travel


@njit(nogil=True, cache=True)
def movement(ag, first, last, net, lv, d, key, route, p_admit, cohesion, quit_nat, tal, o, c0, c1):
    """Travel along legs, dwell at places, choose the next leg toward the target border city
    (from today's `route_table`). Caravan members draw with the group's key, so they stay together.
    Before each choice of leg, bad news from the border (`quit_nat`, a daily chance per nationality)
    can end the journey where the person stands."""
    n_nat = net.nat_transit_mexico.shape[0]
    n = last - first
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        row = tal[c]
        for i in range(first + lo, first + hi):
            st = ag.status[i]
            if st == REGROUPING:
                ag.timer[i] -= 1
                if ag.timer[i] <= 0:
                    nat = ag.nat[i]
                    ag.status[i] = IN_TRANSIT
                    ag.place[i] = origin_of(net, nat, R.uniform(key, R.S_ORIGIN, ag.uid[i]))
                    ag.leg[i] = NO_LEG
                    ag.timer[i] = 0
                    ag.target[i] = draw_target(lv.target_cum[d], nat, R.uniform(key, R.S_TARGET, ag.uid[i]))
                    ag.since[i] = d
                continue
            if st != IN_TRANSIT:
                continue
            g = ag.group[i]
            if g > NO_GROUP and R.uniform(key, R.S_COHESION, ag.uid[i]) >= cohesion[g]:
                ag.group[i] = NO_GROUP
                g = NO_GROUP
            if ag.flags[i] & F_INSPECT:
                ag.flags[i] &= ~F_INSPECT
            if ag.leg[i] >= 0:                       # on a leg
                ag.timer[i] -= 1
                if ag.timer[i] > 0:
                    continue
                e = ag.leg[i]
                p = net.leg_to[e]
                ag.place[i] = p
                ag.leg[i] = NO_LEG
                if net.leg_counts[e] == COUNT_DARIEN and R.uniform(key, R.S_PANAMA, ag.uid[i]) < lv.darien_return[d]:
                    row[o[T.panama_returns]] += 1    # Panama flies them home
                    home(ag, i, d)
                    continue
                if p == net.target_place[ag.target[i]]:
                    ag.status[i] = WAITING_BORDER
                    ag.since[i] = d
                    ag.flags[i] = 0
                    continue
                rk = group_key(g) if g > NO_GROUP else ag.uid[i]
                ag.timer[i] = R.exp_days(net.place_dwell[p], R.uniform(key, R.S_DWELL, rk)) if net.place_dwell[p] > 0 else 0
                if ag.timer[i] > 0:
                    continue
            elif ag.timer[i] > 0:                    # dwelling at a place
                ag.timer[i] -= 1
                if ag.timer[i] > 0:
                    continue
            u_here = ag.place[i]
            t = ag.target[i]
            if u_here == net.target_place[t]:
                ag.status[i] = WAITING_BORDER
                ag.since[i] = d
                ag.flags[i] = 0
                continue
            if quit_nat[ag.nat[i]] > 0 and R.uniform(key, R.S_QUIT, ag.uid[i]) < quit_nat[ag.nat[i]]:
                to_sink(ag, i, GAVE_UP, d, row, o)   # stays in a transit country or turns back
                row[o[T.gave_up_en_route]] += 1
                continue
            ak = group_key(g) if g > NO_GROUP else ag.uid[i]
            e = choose_leg(net, lv, d, route, ag.nat[i], u_here, t, g > NO_GROUP, R.uniform(key, R.S_ROUTE, ak))
            if e < 0:
                continue                             # nowhere open today: wait and try again
            row[o[T.leg_demand] + e] += 1
            if R.uniform(key, R.S_ADMIT, ak) >= p_admit[e]:
                continue                             # no seat today
            ag.leg[i] = e
            days = net.leg_days[e] * (0.75 + 0.5 * R.uniform(key, R.S_LEGDAYS, ak))
            ag.timer[i] = max(1, int(days + 0.5))
            row[o[T.leg_flow] + e] += 1
            if net.leg_counts[e] != NOT_COUNTED:
                row[o[T.counted] + net.leg_counts[e]] += 1
                row[o[T.counted_nat] + net.leg_counts[e] * n_nat + ag.nat[i]] += 1
            if net.leg_detection[e] > 0 and net.nat_transit_mexico[ag.nat[i]]:
                ag.flags[i] |= F_INSPECT


@njit(cache=True)
def route_table(net, lv, d, p_admit, w_time, w_cost, w_risk, variants):
    """Today's route choice, once for everyone: cum[variant, target, k] is the cumulative chance
    of taking out-leg k (indexed like net.out_legs) toward border city `target`; -1 where the leg
    is not a candidate. Variants (codes.V_*) that no traveller has today are left unfilled.

    A logit over the legs that bring one strictly closer to the target (so no loops): utility =
    -(days to target) * w_time - cost * w_cost - detection risk * w_risk + log(chance of a seat).
    Contention (fewer seats, more checks) therefore shifts people to other modes; caravans walk.
    """
    n_t = net.dist.shape[0]
    n_k = net.out_legs.shape[0]
    n_p = net.out_start.shape[0] - 1
    n_l = net.leg_from.shape[0]
    cum = np.full((N_VARIANTS, n_t, n_k), -1.0)
    # the part of each leg's utility that does not depend on the target
    leg_u = np.empty((2, n_l))
    for e in range(n_l):
        base = (-w_time * (net.leg_days[e] + net.place_dwell[net.leg_to[e]]) - w_cost * net.leg_cost[e]
                + np.log(max(p_admit[e], 1e-3)))
        leg_u[0, e] = base / TEMPERATURE_DAYS
        leg_u[1, e] = (base - w_risk * detection_chance(net, lv, d, e)) / TEMPERATURE_DAYS
    util = np.empty(n_k)
    for v in range(N_VARIANTS):
        if not variants[v]:
            continue
        visa = (v & V_NEEDS_VISA) != 0
        inspected = 1 if (v & V_INSPECTED) != 0 else 0
        caravan = (v & V_CARAVAN) != 0
        dist = net.dist_visa if visa else net.dist
        for t in range(n_t):
            for u in range(n_p):
                lo = net.out_start[u]
                hi = net.out_start[u + 1]
                here = dist[t, u]
                if hi == lo or not here < np.inf:
                    continue
                best = -np.inf
                n_foot = 0
                for k in range(lo, hi):
                    e = net.out_legs[k]
                    util[k] = -np.inf
                    rest = dist[t, net.leg_to[e]]
                    if not rest < here - 1e-9 or (visa and net.leg_visa[e]) or p_admit[e] <= 0.0:
                        continue
                    util[k] = leg_u[inspected, e] - w_time * rest / TEMPERATURE_DAYS
                    best = max(best, util[k])
                    if net.leg_mode[e] == FOOT:
                        n_foot += 1
                if best == -np.inf:
                    continue
                if caravan and n_foot > 0:          # caravans keep to foot legs where one leads on
                    best = -np.inf
                    for k in range(lo, hi):
                        if util[k] > -np.inf and net.leg_mode[net.out_legs[k]] != FOOT:
                            util[k] = -np.inf
                        best = max(best, util[k])
                total = 0.0
                for k in range(lo, hi):
                    if util[k] > -np.inf:
                        util[k] = np.exp(util[k] - best)
                        total += util[k]
                acc = 0.0
                for k in range(lo, hi):
                    if util[k] > -np.inf:
                        acc += util[k]
                        cum[v, t, k] = acc / total
    return cum


@njit(inline="always", cache=True)
def choose_leg(net, lv, d, route, nat, place, target, caravan, u):
    """Draw the next leg from today's route table (-1: nowhere to go today)."""
    v = ((V_NEEDS_VISA if lv.mexico_visa_required[d, nat] else 0) + (V_INSPECTED if net.nat_transit_mexico[nat] else 0)
         + (V_CARAVAN if caravan else 0))
    last = -1
    for k in range(net.out_start[place], net.out_start[place + 1]):
        cv = route[v, target, k]
        if cv >= 0.0:
            last = net.out_legs[k]
            if u < cv:
                return last
    return last


class Movement:
    """Reads: contention, guatemala_border_block, mexico_visa_required, darien_return (and, through detection
    risk, mexico_enforcement); the border-city splits for those who set out again; yesterday's demand for
    seats and caravan sizes; `day.quit_nat`."""
    name = "movement"
    BLOCKS = BLOCKS
    STATE = ("demand", "groups")   # what changes day to day: saved to branch from

    def __init__(self, run):
        self.run = run
        sc, net = run.scenario, run.net
        self.demand = np.zeros(len(net.leg_from))
        self.groups = np.zeros(len(sc.caravans) + 1)
        self.cohesion = np.ones(len(sc.caravans) + 1)
        for gi, cv in enumerate(sc.caravans, start=1):
            self.cohesion[gi] = cv.cohesion
        self.guatemala = net.leg_region == GUATEMALA_BORDER
        self.unlimited = np.isinf(net.leg_capacity)

    def step(self, day) -> None:
        run, d = self.run, day.d
        net, lv, beh, scale = run.net, run.timelines, run.scenario.behaviour, run.scenario.scale
        cont = lv.contention[d][net.leg_mode]
        block = np.where(self.guatemala, 1.0 - lv.guatemala_border_block[d], 1.0)
        seat_cap = net.leg_capacity * (1.0 - cont) * block / scale
        p_admit = np.where(self.unlimited, (1.0 - cont) * block, np.minimum(1.0, seat_cap / np.maximum(self.demand, 1.0)))
        variants = np.zeros(N_VARIANTS, np.bool_)     # which kinds of traveller exist today
        needs_visa, caravans = lv.mexico_visa_required[d].any(), self.groups[1:].any()
        for v in range(N_VARIANTS):
            variants[v] = ((v & V_NEEDS_VISA) == 0 or needs_visa) and ((v & V_CARAVAN) == 0 or caravans)
        route = route_table(run.kernel_net, run.kernel_levers, d, p_admit, beh.route_time_weight, beh.route_cost_weight, beh.route_risk_weight,
                            variants)
        over_chunks(movement, day.agents, *day.in_transit, run.kernel_net, run.kernel_levers, d, day.key, route, p_admit, self.cohesion, day.quit_nat,
                 day.tal, run.offsets[self.name])

    def end_day(self, day) -> None:
        self.demand = day.block("leg_demand").astype(float)
        self.groups = day.census.groups.astype(float)

    METRICS = (
        Metric("leg_flow", "leg", "people", "flow", True, "people starting each leg",
               lambda ph, day: day.block("leg_flow") * day.scale),
        Metric("gave_up_en_route", None, "people", "flow", True, "stopped on the way after bad news from the border",
               lambda ph, day: day.one("gave_up_en_route") * day.scale),
        Metric("panama_returns", None, "people", "flow", True, "flown home by Panama after crossing the Darién",
               lambda ph, day: day.one("panama_returns") * day.scale),
    ) + tuple(
        Metric(counted, None, "people", "flow", True, f"starts of the legs that count as {counted}",
               lambda ph, day, c=c: day.block("counted")[c] * day.scale)
        for c, counted in enumerate(COUNTS_AS)
    ) + tuple(
        Metric(counted, "nationality", "people", "flow", True, f"{counted}, by nationality",
               lambda ph, day, c=c: day.block("counted_nat")[c * len(ph.run.world.nat_names):
                                                             (c + 1) * len(ph.run.world.nat_names)] * day.scale)
        for c, counted in enumerate(COUNTS_AS)
    )
