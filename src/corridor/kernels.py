"""Numba kernels, one per daily phase, over the active agents.

Each parallel kernel splits the active list into a fixed number of chunks (not threads) and counts
events into a per-chunk row of `tal` (the tally), summed afterwards. Counts are integers and every
draw is keyed on (seed, stream, day, agent), so results are bit-identical for any thread count.
Queue-limited resources (leg capacity, processing, flights, appointment slots, returns accepted)
are shared by lottery: each claimant succeeds with probability capacity / claimants, where the
claimants were counted before the phase.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import rng as R
from .population import (CROSSING, DETAINED_MEXICO, EVADED, F_APPT, F_DECIDED, F_EXPELLED, F_INSPECT, F_SEEKER,
                         FIRST_SINK, GAVE_UP, ICE_DETENTION, IN_TRANSIT, N_STATUS, PAROLED, REGROUPING, RELEASED_US,
                         REMOVED, US_CUSTODY, WAITING_BORDER)
from .world import COUNTS_AS

N_CHUNKS = 64

# Positions in the offsets array `o` (the start of each block of the tally row).
(O_USBP, O_NAT, O_LEGFLOW, O_LEGDEMAND, O_COUNTS, O_GOOD, O_BAD, O_SINK, O_MXDET_NAT, O_OFO, O_MXDET, O_RELEASES,
 O_REMOVALS, O_RETURNS, O_REPEAT, O_GOTAWAY, O_APPT, O_GIVEUP, O_DEPORT, O_SOUTH, O_OVERFLOW, O_RETURN_DEMAND,
 O_PROCESSED, O_CUSTODY_IN, O_ICE_IN, O_OFO_SECTOR, O_EXPULSIONS, O_SEEKER_IN, O_QUIT, O_PANAMA, O_COUNTS_NAT,
 O_WIDTH) = range(32)
COUNT_DARIEN = COUNTS_AS.index("darien_crossings")   # net.leg_counts code of the legs that count as Darién crossings

# Outcomes of processing in the US.
OUT_RELEASE, OUT_RETURN_MX, OUT_ICE, OUT_REMOVED_LAND, OUT_EXPELLED = range(5)
REGIME_T42, REGIME_T8, REGIME_T8R = 0, 1, 2


@njit(inline="always", cache=True)
def _chunk(n, c):
    size = (n + N_CHUNKS - 1) // N_CHUNKS
    lo = c * size
    return lo, min(n, lo + size)


@njit(inline="always", cache=True)
def _to_sink(ag, i, status, day, row, o):
    ag.status[i] = status
    ag.since[i] = day
    ag.leg[i] = -1
    row[o[O_SINK] + status - FIRST_SINK] += 1


@njit(cache=True)
def _draw_cum(cum, lo, hi, u):
    """Index in [lo, hi) of a draw u from cumulative weights cum[lo:hi]."""
    for k in range(lo, hi):
        if u < cum[k]:
            return k
    return hi - 1


@njit(cache=True)
def _draw_target(target_cum, nat, u):
    row = target_cum[nat]
    for t in range(row.shape[0]):
        if u < row[t]:
            return t
    return row.shape[0] - 1


# --------------------------------------------------------------------------- departures

@njit(inline="always", cache=True)
def person_key(day, cohort, k):
    """A person's random-number identity: the k-th to leave on `day` in `cohort` (a nationality, or
    1000 + a caravan). Two scenarios give the same person the same draws even when earlier
    differences changed how many others were created (common random numbers)."""
    return R.mix64((np.uint64(day) << np.uint64(40)) ^ (np.uint64(cohort) << np.uint64(24)) ^ np.uint64(k))


@njit(inline="always", cache=True)
def _group_key(g):
    return R.mix64(np.uint64(0xCA7A7A) + np.uint64(g))


@njit(cache=True)
def departures(ag, n0, net, counts, parole_counts, target_cum, key, day):
    """Create today's departers at their origins (serial: creation order fixes agent identities).

    counts[nat] people leave by land, each heading for a border city drawn from today's split
    (target_cum[nat], cumulative); parole_counts[nat] fly in on parole (created straight into the
    PAROLED status so the books hold them too). Returns the new agent count.
    """
    i = n0
    for nat in range(counts.shape[0]):
        for k in range(parole_counts[nat] + counts[nat]):
            ag.uid[i + k] = person_key(day, nat, k)
        for _ in range(parole_counts[nat]):
            ag.nat[i] = nat
            ag.status[i] = PAROLED
            ag.place[i] = net.nat_origin_place[net.nat_origin_start[nat]]
            ag.leg[i] = -1
            ag.since[i] = day
            ag.group[i] = 0
            i += 1
        for _ in range(counts[nat]):
            _spawn(ag, i, nat, net, target_cum, key, day, 0)
            i += 1
    return i


@njit(inline="always", cache=True)
def _spawn(ag, i, nat, net, target_cum, key, day, group):
    lo = net.nat_origin_start[nat]
    hi = net.nat_origin_start[nat + 1]
    k = _draw_cum(net.nat_origin_cum, lo, hi, R.uniform(key, R.S_ORIGIN, ag.uid[i]))
    ag.nat[i] = nat
    ag.status[i] = IN_TRANSIT
    ag.place[i] = net.nat_origin_place[k]
    ag.leg[i] = -1
    ag.timer[i] = 0
    ag.target[i] = _draw_target(target_cum, nat, R.uniform(key, R.S_TARGET, ag.uid[i]))
    ag.attempts[i] = 0
    ag.flags[i] = 0
    ag.group[i] = group
    ag.since[i] = day


@njit(cache=True)
def caravan(ag, n0, net, size, origin, target, nat_cum, group, target_cum, key, day):
    """A caravan: `size` agents leave `origin` together, one group id, one target."""
    for j in range(size):
        i = n0 + j
        ag.uid[i] = person_key(day, 1000 + group, j)
        u = R.uniform(key, R.S_NATDRAW, ag.uid[i])
        nat = 0
        for k in range(nat_cum.shape[0]):
            if u < nat_cum[k]:
                nat = k
                break
        _spawn(ag, i, nat, net, target_cum, key, day, group)
        ag.place[i] = origin
        ag.target[i] = target
    return n0 + size


# --------------------------------------------------------------------------- movement

@njit(parallel=True, cache=True)
def movement(ag, active, net, lv, d, key, route, p_admit, cohesion, quit_nat, tal, o):
    """Travel along legs, dwell at places, choose the next leg toward the target border city
    (from today's `route_table`). Caravan members draw with the group's key, so they stay together.
    Before each choice of leg, bad news from the border (`quit_nat`, a daily chance per nationality)
    can end the journey where the person stands."""
    n = active.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = _chunk(n, c)
        _movement_chunk(ag, active, net, lv, d, key, route, p_admit, cohesion, quit_nat, tal[c], o, lo, hi)


@njit(cache=True)
def _movement_chunk(ag, active, net, lv, d, key, route, p_admit, cohesion, quit_nat, row, o, lo, hi):
    for j in range(lo, hi):
        i = active[j]
        st = ag.status[i]
        if st == REGROUPING:
            ag.timer[i] -= 1
            if ag.timer[i] <= 0:
                nat = ag.nat[i]
                olo = net.nat_origin_start[nat]
                k = _draw_cum(net.nat_origin_cum, olo, net.nat_origin_start[nat + 1], R.uniform(key, R.S_ORIGIN, ag.uid[i]))
                ag.status[i] = IN_TRANSIT
                ag.place[i] = net.nat_origin_place[k]
                ag.leg[i] = -1
                ag.timer[i] = 0
                ag.target[i] = _draw_target(lv.target_cum[d], nat, R.uniform(key, R.S_TARGET, ag.uid[i]))
                ag.since[i] = d
            continue
        if st != IN_TRANSIT:
            continue
        g = ag.group[i]
        if g > 0 and R.uniform(key, R.S_COHESION, ag.uid[i]) >= cohesion[g]:
            ag.group[i] = 0
            g = 0
        if ag.flags[i] & F_INSPECT:
            ag.flags[i] &= ~F_INSPECT
        if ag.leg[i] >= 0:                       # on a leg
            ag.timer[i] -= 1
            if ag.timer[i] > 0:
                continue
            e = ag.leg[i]
            p = net.leg_to[e]
            ag.place[i] = p
            ag.leg[i] = -1
            if net.leg_counts[e] == COUNT_DARIEN and R.uniform(key, R.S_PANAMA, ag.uid[i]) < lv.darien_return[d]:
                row[o[O_PANAMA]] += 1            # Panama flies them home
                _home(ag, i, d)
                continue
            if p == net.target_place[ag.target[i]]:
                ag.status[i] = WAITING_BORDER
                ag.since[i] = d
                ag.flags[i] = 0
                continue
            rk = _group_key(g) if g > 0 else ag.uid[i]
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
            _to_sink(ag, i, GAVE_UP, d, row, o)  # stays in a transit country or turns back
            row[o[O_QUIT]] += 1
            continue
        ak = _group_key(g) if g > 0 else ag.uid[i]
        e = _choose_leg(net, lv, d, route, ag.nat[i], u_here, t, g > 0, R.uniform(key, R.S_ROUTE, ak))
        if e < 0:
            continue                             # nowhere open today: wait and try again
        row[o[O_LEGDEMAND] + e] += 1
        if R.uniform(key, R.S_ADMIT, ak) >= p_admit[e]:
            continue                             # no seat today
        ag.leg[i] = e
        days = net.leg_days[e] * (0.75 + 0.5 * R.uniform(key, R.S_LEGDAYS, ak))
        ag.timer[i] = max(1, int(days + 0.5))
        row[o[O_LEGFLOW] + e] += 1
        if net.leg_counts[e] >= 0:
            row[o[O_COUNTS] + net.leg_counts[e]] += 1
            row[o[O_COUNTS_NAT] + net.leg_counts[e] * net.nat_transit_mexico.shape[0] + ag.nat[i]] += 1
        if net.leg_detection[e] > 0 and net.nat_transit_mexico[ag.nat[i]]:
            ag.flags[i] |= F_INSPECT


@njit(inline="always", cache=True)
def detection_chance(net, lv, d, e):
    """Chance of detection on leg e today: the checkpoint's base rate scaled by Mexico's levers."""
    p = net.leg_detection[e] * lv.enforcement[d] * (1.0 + lv.contention[d, net.leg_mode[e]])
    if net.leg_region[e] == 2:
        p *= 1.0 + 2.0 * lv.guat_block[d]
    return min(p, 0.95)


@njit(cache=True)
def route_table(net, lv, d, p_admit, w_time, w_cost, w_risk, variants):
    """Today's route choice, once for everyone: cum[variant, target, k] is the cumulative chance
    of taking out-leg k (indexed like net.out_legs) toward border city `target`; -1 where the leg
    is not a candidate. Variant bits: 1 needs a Mexican visa, 2 inspected by Mexico, 4 caravan;
    only the variants flagged in `variants` are filled.

    A logit over the legs that bring one strictly closer to the target (so no loops): utility =
    -(days to target) * w_time - cost * w_cost - detection risk * w_risk + log(chance of a seat).
    Contention (fewer seats, more checks) therefore shifts people to other modes; caravans walk.
    """
    n_t = net.dist.shape[0]
    n_k = net.out_legs.shape[0]
    n_p = net.out_start.shape[0] - 1
    n_l = net.leg_from.shape[0]
    cum = np.full((8, n_t, n_k), -1.0)
    # the part of each leg's utility that does not depend on the target (temperature: 3 days)
    leg_u = np.empty((2, n_l))
    for e in range(n_l):
        base = (-w_time * (net.leg_days[e] + net.place_dwell[net.leg_to[e]]) - w_cost * net.leg_cost[e]
                + np.log(max(p_admit[e], 1e-3)))
        leg_u[0, e] = base / 3.0
        leg_u[1, e] = (base - w_risk * detection_chance(net, lv, d, e)) / 3.0
    util = np.empty(n_k)
    for v in range(8):
        if not variants[v]:
            continue
        visa = (v & 1) != 0
        inspected = 1 if (v & 2) != 0 else 0
        caravan = (v & 4) != 0
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
                    util[k] = leg_u[inspected, e] - w_time * rest / 3.0
                    best = max(best, util[k])
                    if net.leg_mode[e] == 0:
                        n_foot += 1
                if best == -np.inf:
                    continue
                if caravan and n_foot > 0:          # caravans keep to foot legs where one leads on
                    best = -np.inf
                    for k in range(lo, hi):
                        if util[k] > -np.inf and net.leg_mode[net.out_legs[k]] != 0:
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
def _choose_leg(net, lv, d, route, nat, place, target, caravan, u):
    """Draw the next leg from today's route table (-1: nowhere to go today)."""
    v = (1 if lv.visa[d, nat] else 0) + (2 if net.nat_transit_mexico[nat] else 0) + (4 if caravan else 0)
    last = -1
    for k in range(net.out_start[place], net.out_start[place + 1]):
        c = route[v, target, k]
        if c >= 0.0:
            last = net.out_legs[k]
            if u < c:
                return last
    return last


# --------------------------------------------------------------------------- inspections in Mexico

@njit(parallel=True, cache=True)
def inspections(ag, active, net, lv, d, key, group_size, leak, full_size, detention_days, tal, o):
    """Checkpoints: detect people starting an inspected leg; end detentions (deport, bus south, release).

    Large cohesive groups slip through: detection falls by `leak` * min(1, size / full_size).
    """
    n = active.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = _chunk(n, c)
        _inspections_chunk(ag, active, net, lv, d, key, group_size, leak, full_size, detention_days, tal[c], o, lo, hi)


@njit(cache=True)
def _inspections_chunk(ag, active, net, lv, d, key, group_size, leak, full_size, detention_days, row, o, lo, hi):
    for j in range(lo, hi):
        i = active[j]
        st = ag.status[i]
        if st == IN_TRANSIT and (ag.flags[i] & F_INSPECT):
            ag.flags[i] &= ~F_INSPECT
            e = ag.leg[i]
            p = detection_chance(net, lv, d, e)
            g = ag.group[i]
            if g > 0:
                p *= 1.0 - leak * min(1.0, group_size[g] / full_size)
            if R.uniform(key, R.S_INSPECT, ag.uid[i]) < p:
                ag.status[i] = DETAINED_MEXICO
                ag.leg[i] = -1
                ag.group[i] = 0
                ag.since[i] = d
                ag.timer[i] = R.exp_days(detention_days, R.uniform(key, R.S_MXTIMER, ag.uid[i]))
                row[o[O_MXDET]] += 1
                row[o[O_MXDET_NAT] + ag.nat[i]] += 1
        elif st == DETAINED_MEXICO:
            ag.timer[i] -= 1
            if ag.timer[i] > 0:
                continue
            nat = ag.nat[i]
            u = R.uniform(key, R.S_MXOUT, ag.uid[i])
            if u < lv.deport[d, nat]:
                row[o[O_DEPORT]] += 1
                row[o[O_BAD] + nat] += 1
                _home(ag, i, d)
            elif R.uniform(key, R.S_MXOUT + 100, ag.uid[i]) < lv.return_south[d]:
                row[o[O_SOUTH]] += 1
                ag.status[i] = IN_TRANSIT
                ag.place[i] = net.south_place
                ag.timer[i] = R.exp_days(net.place_dwell[net.south_place], R.uniform(key, R.S_DWELL, ag.uid[i]))
                ag.since[i] = d
            else:
                ag.status[i] = IN_TRANSIT
                ag.timer[i] = 0
                ag.since[i] = d


@njit(inline="always", cache=True)
def _home(ag, i, d):
    """Sent back to the country of origin: `retries` decides later today whether they set out again."""
    ag.leg[i] = -1
    ag.group[i] = 0
    ag.since[i] = d
    ag.status[i] = REGROUPING
    ag.timer[i] = -1  # -1 marks "decide now": `retries` decides later today


# --------------------------------------------------------------------------- waiting and crossing

@njit(parallel=True, cache=True)
def border_arrivals(ag, active, lv, d, key, seekers_share, tal, o):
    """New arrivals at the border choose: wait for a CBP One appointment, or cross irregularly.

    Counted per city before the lottery for slots, so today's newcomers compete with the queue.
    """
    n = active.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = _chunk(n, c)
        _border_arrivals_chunk(ag, active, lv, d, key, seekers_share, tal[c], o, lo, hi)


@njit(cache=True)
def _border_arrivals_chunk(ag, active, lv, d, key, seekers_share, row, o, lo, hi):
    if lv.appointments[d] <= 0:
        return
    for j in range(lo, hi):
        i = active[j]
        if ag.status[i] != WAITING_BORDER or (ag.flags[i] & F_DECIDED):
            continue
        ag.flags[i] |= F_DECIDED
        if R.uniform(key, R.S_SEEK, ag.uid[i]) < seekers_share:
            ag.flags[i] |= F_SEEKER
            row[o[O_SEEKER_IN] + ag.place[i]] += 1


@njit(parallel=True, cache=True)
def border(ag, active, net, lv, d, key, p_slot, hazard, patience, port_share, give_up, tal, o):
    """People waiting in Mexican border cities: wait for an appointment, cross irregularly, or give up."""
    n = active.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = _chunk(n, c)
        _border_chunk(ag, active, net, lv, d, key, p_slot, hazard, patience, port_share, give_up, tal[c], o, lo, hi)


@njit(cache=True)
def _border_chunk(ag, active, net, lv, d, key, p_slot, hazard, patience, port_share, give_up, row, o, lo, hi):
    # One draw per person per day, split into exclusive outcomes (give up | slot or cross | wait);
    # the rescaled remainder of the same draw picks the crossing, so every outcome keeps its odds.
    appointments_exist = lv.appointments[d] > 0
    for j in range(lo, hi):
        i = active[j]
        if ag.status[i] != WAITING_BORDER:
            continue
        city = ag.place[i]
        u = R.uniform(key, R.S_CROSS, ag.uid[i])
        gu = give_up[ag.nat[i]]
        if u < gu:
            _to_sink(ag, i, GAVE_UP, d, row, o)
            row[o[O_GIVEUP]] += 1
            continue
        v = (u - gu) / (1.0 - gu)
        if ag.flags[i] & F_SEEKER:
            if appointments_exist and v < p_slot[city]:
                port = _pick_port(net, lv, d, city, v / p_slot[city], True)
                if port >= 0:
                    ag.status[i] = CROSSING
                    ag.leg[i] = port
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
            crossing = _pick_port(net, lv, d, city, w / port_share, False)
        if crossing < 0:
            bp = net.city_bp[city]
            if bp >= 0 and not lv.closed[d, bp]:
                crossing = bp
            else:
                crossing = _pick_port(net, lv, d, city, w, False)
        if crossing >= 0:
            ag.status[i] = CROSSING
            ag.leg[i] = crossing


@njit(cache=True)
def _pick_port(net, lv, d, city, u, appointment):
    """An open port of the city (weighted by appointment share when booking; else uniform)."""
    lo = net.city_port_start[city]
    hi = net.city_port_start[city + 1]
    total = 0.0
    for k in range(lo, hi):
        x = net.city_ports[k]
        if not lv.closed[d, x] and net.crossing_kind[x] == 0:
            total += net.crossing_appt[x] if appointment else 1.0
    if total <= 0.0:
        return -1
    acc = 0.0
    last = -1
    for k in range(lo, hi):
        x = net.city_ports[k]
        if not lv.closed[d, x] and net.crossing_kind[x] == 0:
            w = net.crossing_appt[x] if appointment else 1.0
            if w > 0:
                acc += w
                last = x
                if u * total < acc:
                    return x
    return last


# --------------------------------------------------------------------------- US encounter

@njit(parallel=True, cache=True)
def encounter(ag, active, net, lv, d, key, p_accept, restricted_factor, tal, o):
    """Crossing into the US: a got-away, a Border Patrol apprehension (custody), or a port encounter."""
    n = active.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = _chunk(n, c)
        _encounter_chunk(ag, active, net, lv, d, key, p_accept, restricted_factor, tal[c], o, lo, hi)


@njit(cache=True)
def _encounter_chunk(ag, active, net, lv, d, key, p_accept, restricted_factor, row, o, lo, hi):
    for j in range(lo, hi):
        i = active[j]
        if ag.status[i] != CROSSING:
            continue
        x = ag.leg[i]
        nat = ag.nat[i]
        s = net.crossing_sector[x]
        if net.crossing_kind[x] == 2:                     # between ports: Border Patrol
            if R.uniform(key, R.S_GOTAWAY, ag.uid[i]) < net.sector_gotaway[s]:
                row[o[O_GOTAWAY]] += 1
                row[o[O_GOOD] + nat] += 1
                _to_sink(ag, i, EVADED, d, row, o)
                continue
            _count_encounter(ag, i, nat, row, o)
            row[o[O_USBP] + s] += 1
            row[o[O_CUSTODY_IN] + s] += 1
            ag.status[i] = US_CUSTODY
            ag.leg[i] = s
            ag.since[i] = d
            continue
        # a port of entry: Office of Field Operations
        _count_encounter(ag, i, nat, row, o)
        row[o[O_OFO]] += 1
        row[o[O_OFO_SECTOR] + s] += 1
        if ag.flags[i] & F_APPT:
            row[o[O_APPT]] += 1
            row[o[O_RELEASES]] += 1
            row[o[O_GOOD] + nat] += 1
            _to_sink(ag, i, RELEASED_US, d, row, o)
            continue
        out = outcome(net, lv, d, nat, R.uniform(key, R.S_OUTCOME, ag.uid[i]), R.uniform(key, R.S_ACCEPT, ag.uid[i]),
                      p_accept, restricted_factor, row, o)
        _apply_outcome(ag, i, out, net.crossing_city[x], d, nat, row, o)


@njit(inline="always", cache=True)
def _count_encounter(ag, i, nat, row, o):
    row[o[O_NAT] + nat] += 1
    if ag.attempts[i] > 0:
        row[o[O_REPEAT]] += 1
    if ag.attempts[i] < 127:
        ag.attempts[i] += 1


@njit(cache=True)
def outcome(net, lv, d, nat, u, u_accept, p_accept, restricted_factor, row, o):
    """The legal outcome of a processed encounter, by nationality and regime."""
    regime = lv.regime[d]
    mexican = not net.nat_transit_mexico[nat]
    to_mexico_ok = mexican or net.nat_returnable[nat] or lv.accepts[d, nat]
    if regime == REGIME_T42 and u < lv.title42[d, nat]:
        row[o[O_EXPULSIONS]] += 1
        if to_mexico_ok:
            if mexican or net.nat_returnable[nat]:
                return OUT_EXPELLED
            row[o[O_RETURN_DEMAND]] += 1
            if u_accept < p_accept:
                return OUT_EXPELLED
        return OUT_ICE
    r = lv.t8_removal[d, nat]
    if regime == REGIME_T8R:
        r = 1.0 - (1.0 - r) * restricted_factor
    if u < r:
        if mexican:
            return OUT_REMOVED_LAND
        if lv.accepts[d, nat] and not net.nat_returnable[nat]:
            row[o[O_RETURN_DEMAND]] += 1
            if u_accept < p_accept:
                return OUT_RETURN_MX
        return OUT_ICE
    return OUT_RELEASE


@njit(inline="always", cache=True)
def _apply_outcome(ag, i, out, city, d, nat, row, o):
    if out == OUT_RELEASE:
        row[o[O_RELEASES]] += 1
        row[o[O_GOOD] + nat] += 1
        _to_sink(ag, i, RELEASED_US, d, row, o)
    elif out == OUT_ICE:
        row[o[O_ICE_IN] + nat] += 1
        ag.status[i] = ICE_DETENTION
        ag.leg[i] = -1
        ag.since[i] = d
    else:
        # returned to Mexico (Title 42 expulsion, return, or removal of a Mexican over land)
        if out == OUT_REMOVED_LAND:
            row[o[O_REMOVALS]] += 1
        else:
            row[o[O_RETURNS]] += 1
        row[o[O_BAD] + nat] += 1
        ag.status[i] = WAITING_BORDER
        ag.place[i] = city
        ag.leg[i] = -1
        ag.flags[i] = F_EXPELLED if out == OUT_EXPELLED else 0
        ag.since[i] = d
        ag.timer[i] = -1                       # the retry decision is taken in `retries`


# --------------------------------------------------------------------------- US custody

@njit(parallel=True, cache=True)
def custody(ag, active, net, lv, d, key, p_process, p_overflow, p_accept, restricted_factor, min_days, tal, o):
    """Border Patrol custody: processing shared by lottery; above holding capacity some are released unprocessed."""
    n = active.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = _chunk(n, c)
        _custody_chunk(ag, active, net, lv, d, key, p_process, p_overflow, p_accept, restricted_factor, min_days, tal[c], o, lo, hi)


@njit(cache=True)
def _custody_chunk(ag, active, net, lv, d, key, p_process, p_overflow, p_accept, restricted_factor, min_days, row, o, lo, hi):
    for j in range(lo, hi):
        i = active[j]
        if ag.status[i] != US_CUSTODY:
            continue
        s = ag.leg[i]
        nat = ag.nat[i]
        city = ag.place[i]
        if d - ag.since[i] < min_days:
            continue                                   # still being processed
        if R.uniform(key, R.S_PROCESS, ag.uid[i]) < p_process[s]:
            row[o[O_PROCESSED]] += 1
            out = outcome(net, lv, d, nat, R.uniform(key, R.S_OUTCOME, ag.uid[i]), R.uniform(key, R.S_ACCEPT, ag.uid[i]),
                          p_accept, restricted_factor, row, o)
            _apply_outcome(ag, i, out, city, d, nat, row, o)
        elif R.uniform(key, R.S_OVERFLOW, ag.uid[i]) < p_overflow[s]:
            row[o[O_OVERFLOW]] += 1
            _apply_outcome(ag, i, OUT_RELEASE, city, d, nat, row, o)


# --------------------------------------------------------------------------- removal flights

@njit(parallel=True, cache=True)
def removals(ag, active, d, key, p_flight, max_days, tal, o):
    """ICE detention awaiting a removal flight: seats per nationality by lottery; released after max_days."""
    n = active.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = _chunk(n, c)
        _removals_chunk(ag, active, d, key, p_flight, max_days, tal[c], o, lo, hi)


@njit(cache=True)
def _removals_chunk(ag, active, d, key, p_flight, max_days, row, o, lo, hi):
    for j in range(lo, hi):
        i = active[j]
        if ag.status[i] != ICE_DETENTION:
            continue
        nat = ag.nat[i]
        if R.uniform(key, R.S_FLIGHT, ag.uid[i]) < p_flight[nat]:
            row[o[O_REMOVALS]] += 1
            row[o[O_BAD] + nat] += 1
            _home(ag, i, d)
        elif d - ag.since[i] >= max_days:
            row[o[O_RELEASES]] += 1
            row[o[O_GOOD] + nat] += 1
            _to_sink(ag, i, RELEASED_US, d, row, o)


# --------------------------------------------------------------------------- repeat attempts

@njit(parallel=True, cache=True)
def retries(ag, active, d, key, retry_expulsion, retry_return, retry_removal, regroup_days, tal, o):
    """Those returned to Mexico or sent home today decide whether to try again (timer == -1 marks them):
    after a Title 42 expulsion at `retry_expulsion`, after any other return at `retry_return`."""
    n = active.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = _chunk(n, c)
        _retries_chunk(ag, active, d, key, retry_expulsion, retry_return, retry_removal, regroup_days, tal[c], o, lo, hi)


@njit(cache=True)
def _retries_chunk(ag, active, d, key, retry_expulsion, retry_return, retry_removal, regroup_days, row, o, lo, hi):
    for j in range(lo, hi):
        i = active[j]
        if ag.timer[i] != -1:
            continue
        st = ag.status[i]
        u = R.uniform(key, R.S_RETRY, ag.uid[i])
        if st == WAITING_BORDER:
            rate = retry_expulsion if ag.flags[i] & F_EXPELLED else retry_return
            ag.flags[i] &= ~F_EXPELLED
            if u < rate:
                ag.timer[i] = 0
            else:
                ag.timer[i] = 0
                _to_sink(ag, i, GAVE_UP, d, row, o)
        elif st == REGROUPING:
            if u < retry_removal:
                ag.timer[i] = R.exp_days(regroup_days, R.uniform(key, R.S_REGROUP, ag.uid[i]))
            else:
                ag.timer[i] = 0
                _to_sink(ag, i, REMOVED, d, row, o)


# --------------------------------------------------------------------------- census and compaction

@njit(parallel=True, cache=True)
def census(ag, active, n_place, n_sector, n_nat, n_group, ready_day):
    """Stocks at the end of the day: status, place, custody by sector (and those ready for processing
    on `ready_day`), ICE queue, seekers, groups."""
    n = active.shape[0]
    status = np.zeros((N_CHUNKS, N_STATUS), np.int64)
    place = np.zeros((N_CHUNKS, n_place), np.int64)
    waiting = np.zeros((N_CHUNKS, n_place), np.int64)
    seekers = np.zeros((N_CHUNKS, n_place), np.int64)
    custody_s = np.zeros((N_CHUNKS, n_sector), np.int64)
    ready = np.zeros((N_CHUNKS, n_sector), np.int64)
    ice = np.zeros((N_CHUNKS, n_nat), np.int64)
    groups = np.zeros((N_CHUNKS, n_group), np.int64)
    for c in prange(N_CHUNKS):
        lo, hi = _chunk(n, c)
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
                custody_s[c, ag.leg[i]] += 1
                if ag.since[i] <= ready_day:
                    ready[c, ag.leg[i]] += 1
            elif st == ICE_DETENTION:
                ice[c, ag.nat[i]] += 1
            g = ag.group[i]
            if g > 0 and g < n_group:
                groups[c, g] += 1
    return (status.sum(axis=0), place.sum(axis=0), waiting.sum(axis=0), seekers.sum(axis=0),
            custody_s.sum(axis=0), ready.sum(axis=0), ice.sum(axis=0), groups.sum(axis=0))


@njit(inline="always", cache=True)
def _group(st):
    """Which part of the active list an agent belongs in: 0 at the border, 1 held in the US, 2 in transit."""
    if st == WAITING_BORDER or st == CROSSING:
        return 0
    if st == US_CUSTODY or st == ICE_DETENTION:
        return 1
    return 2


@njit(cache=True)
def compact(ag, active):
    """Tomorrow's active list, finished agents dropped, partitioned [border | US | transit] so each
    phase scans only the agents it can act on. Returns the list and the two partition bounds."""
    counts = np.zeros(3, np.int64)
    for j in range(active.shape[0]):
        st = ag.status[active[j]]
        if st < FIRST_SINK:
            counts[_group(st)] += 1
    pos = np.array([0, counts[0], counts[0] + counts[1]], np.int64)
    out = np.empty(counts.sum(), np.int64)
    for j in range(active.shape[0]):
        i = active[j]
        st = ag.status[i]
        if st < FIRST_SINK:
            g = _group(st)
            out[pos[g]] = i
            pos[g] += 1
    return out, counts[0], counts[0] + counts[1]
